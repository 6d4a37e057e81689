namespace SecureDra.KubeletPlugin.Tests;

public class ProjectLoadsTests
{
    [Fact]
    public void TestAssemblyLoads() => Assert.NotNull(typeof(ProjectLoadsTests).Assembly);
}
