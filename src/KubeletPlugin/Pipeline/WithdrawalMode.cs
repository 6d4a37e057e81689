namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>How a withdrawn device (dirty, scrub failed, unhealthy) disappears from scheduling.</summary>
public enum WithdrawalMode
{
    /// <summary>Default: the device is left out of the ResourceSlice. Works on every Kubernetes version.</summary>
    RemoveFromSlice,

    /// <summary>The device stays listed with a NoSchedule taint; only where the API server accepts device taints (else falls back to removal).</summary>
    TaintNoSchedule,

    /// <summary>NoExecute also evicts running pods that use the device; never the default, only behind an explicit flag.</summary>
    TaintNoExecute,
}
