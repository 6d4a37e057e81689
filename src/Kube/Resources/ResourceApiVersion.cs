namespace SecureDra.Kube.Resources;

/// <summary>resource.k8s.io versions we speak, newest first in preference.</summary>
public enum ResourceApiVersion
{
    V1Beta1,
    V1Beta2,
    V1,
}
