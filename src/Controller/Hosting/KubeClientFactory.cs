using SecureDra.Kube.Client;
using SecureDra.Kube.Events;

namespace SecureDra.Controller.Hosting;

/// <summary>The one place the controller and <c>securedra audit</c> construct their Kubernetes client and event recorder.</summary>
public static class KubeClientFactory
{
    /// <summary>
    /// A client for <paramref name="kubeconfigPath"/> (a kubeconfig file, an http(s) URL of a local
    /// API server, or null for the in-cluster service account) and a rate-limited event recorder on it.
    /// </summary>
    public static (IKubeApiClient Client, IEventRecorder Events) Create(string? kubeconfigPath)
    {
        var client = KubeApiClientFactory.Create(kubeconfigPath);
        return (client, new KubeEventRecorder(client, new EventRecorderOptions { Component = "securedra-controller" }));
    }
}
