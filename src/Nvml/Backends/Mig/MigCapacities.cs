namespace SecureDra.Nvml.Backends.Mig;

/// <summary>
/// What a GPU-instance profile takes of its GPU, as <c>nvmlGpuInstanceProfileInfo_t</c> reports it; these are the
/// counters of a partitionable device (multiprocessors, copy-engines, decoders, encoders, jpeg-engines, ofa-engines).
/// </summary>
public sealed record MigCapacities(int Multiprocessors, int CopyEngines, int Decoders, int Encoders, int JpegEngines, int OfaEngines);
