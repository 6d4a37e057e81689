using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>The result of one scrub attempt: clean only when the device verified its memory reads back as zero.</summary>
public sealed record ScrubOutcome(string DeviceName, bool Clean, string Detail, ScrubReport? Report);
