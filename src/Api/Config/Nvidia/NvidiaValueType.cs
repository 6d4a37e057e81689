namespace SecureDra.Api.Config.Nvidia;

/// <summary>How a field of the NVIDIA schema is decoded and bounded.</summary>
public enum NvidiaValueType
{
    /// <summary>A bounded string; <see cref="NvidiaFieldSpec.Pattern"/> says its shape.</summary>
    String,

    /// <summary>One of <see cref="NvidiaFieldSpec.Values"/>, case-sensitive like the vendor's Go constants.</summary>
    Enum,

    /// <summary>A JSON integer literal (Go's int: no fraction, no exponent) within minimum..maximum.</summary>
    Integer,

    Boolean,

    /// <summary>An object described by <see cref="NvidiaFieldSpec.Object"/>.</summary>
    Object,

    /// <summary>A Kubernetes resource.Quantity (string or number) of bytes within minimum..maximum.</summary>
    Quantity,

    /// <summary>An object from device selector (GPU index or UUID) to a <see cref="Quantity"/>.</summary>
    QuantityMap,
}
