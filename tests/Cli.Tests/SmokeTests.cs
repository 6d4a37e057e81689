namespace SecureDra.Cli.Tests;

public class ProjectLoadsTests
{
    [Fact]
    public void TestAssemblyLoads() => Assert.NotNull(typeof(ProjectLoadsTests).Assembly);
}
