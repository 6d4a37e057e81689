namespace SecureDra.Fuzz;

/// <summary>
/// One parser of untrusted input, wrapped so that any engine (the in-process mutation loop of the CI
/// smoke, or AFL++ through SharpFuzz) can drive it with raw bytes. <see cref="Run"/> feeds the input to
/// the parser's public entry point, lets only the parser's documented exception types pass as
/// "rejected", and checks the target's oracle on what was accepted. Anything else — an undocumented
/// exception, or an accepted input that breaks a documented rule — is a <see cref="FuzzFindingException"/>
/// (or the undocumented exception itself, escaping), which the engines report as a crash.
/// </summary>
/// <remarks>
/// A new parser (proxy vendor responses, MIG/NVML strings, node-hardening TOML) is one small class
/// implementing this interface, registered in <see cref="FuzzTargets.All"/>, plus a folder of seeds
/// under <c>fuzz/corpus/&lt;Name&gt;</c> and optionally <c>fuzz/dict/&lt;Name&gt;.dict</c>.
/// </remarks>
public interface IFuzzTarget
{
    /// <summary>Folder name of the corpus and dictionary; stable, lower-case, dash-separated.</summary>
    string Name { get; }

    /// <summary>What the mutator grows inputs to at most: a little above the parser's own size limit, so the limit itself is exercised.</summary>
    int MaxInputBytes { get; }

    /// <summary>Runs one input; returns how it ended. Throws <see cref="FuzzFindingException"/> when an oracle fails.</summary>
    FuzzVerdict Run(ReadOnlySpan<byte> input);
}
