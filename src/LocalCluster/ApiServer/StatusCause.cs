namespace SecureDra.LocalCluster.ApiServer;

/// <summary>One entry of a Status's details.causes: a field and why it was refused.</summary>
public sealed record StatusCause(string Reason, string Field, string Message);
