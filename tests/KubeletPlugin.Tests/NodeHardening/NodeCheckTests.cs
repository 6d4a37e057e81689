using System.Net.Sockets;
using System.Text;
using SecureDra.KubeletPlugin.NodeHardening;

namespace SecureDra.KubeletPlugin.Tests.NodeHardening;

/// <summary>The node checks on real-shaped files, missing keys, and hostile or huge files.</summary>
public sealed class NodeCheckTests : IDisposable
{
    private const string CdiRoot = "/var/run/cdi";
    private readonly NodeFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static string[] Ids(IEnumerable<NodeFinding> findings) => [.. findings.Select(f => f.Id).Order(StringComparer.Ordinal)];

    private static string[] OpenIds(IEnumerable<NodeFinding> findings) => Ids(findings.Where(f => f.State == NodeFindingState.Open));

    [Fact]
    public void Operator_toolkit_config_with_the_accept_key_true_is_open_and_wins_over_the_package_path()
    {
        _files.Write(_files.OperatorToolkitConfig, NodeFiles.OperatorToolkitToml);
        _files.Write(_files.PackageToolkitConfig, NodeFiles.HardenedToolkitToml);
        var findings = new ToolkitConfigCheck(_files.Options(), CdiRoot).Run();
        Assert.Equal(["toolkit-envvar-accepted", "toolkit-reads-cdi-root"], OpenIds(findings));
        Assert.All(findings, f => Assert.Equal(_files.OperatorToolkitConfig, f.Source));
        Assert.Contains("is true", findings.Single(f => f.Id == "toolkit-envvar-accepted").Message, StringComparison.Ordinal);
        Assert.Contains("ACCEPT_NVIDIA_VISIBLE_DEVICES_ENVVAR_WHEN_UNPRIVILEGED=false", findings[0].Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_toolkit_config_without_the_accept_key_means_true()
    {
        _files.Write(_files.PackageToolkitConfig, NodeFiles.PackageToolkitToml);
        var findings = new ToolkitConfigCheck(_files.Options(), CdiRoot).Run();
        var accepted = Assert.Single(findings, f => f.Id == "toolkit-envvar-accepted");
        Assert.Equal(NodeFindingState.Open, accepted.State);
        Assert.Contains("not set (the toolkit's default is true)", accepted.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hardened_toolkit_config_leaves_only_an_advisory_about_the_spec_dir()
    {
        _files.Write(_files.PackageToolkitConfig, NodeFiles.HardenedToolkitToml);
        var findings = new ToolkitConfigCheck(_files.Options(), CdiRoot).Run();
        Assert.Empty(OpenIds(findings));
        Assert.Equal(NodeFindingState.Advisory, Assert.Single(findings).State);

        // With SecureDra's specs in a directory the NVIDIA runtime does not read, nothing is left.
        Assert.Empty(new ToolkitConfigCheck(_files.Options(), "/var/run/securedra/cdi").Run());
    }

    [Theory]
    [InlineData("accept-nvidia-visible-devices-envvar-when-unprivileged = \"false\"", "not a boolean")]
    [InlineData("accept-nvidia-visible-devices-envvar-when-unprivileged = 0", "not a boolean")]
    public void A_wrongly_typed_accept_key_is_treated_as_true(string line, string expected)
    {
        _files.Write(_files.PackageToolkitConfig, line + "\n");
        var finding = Assert.Single(new ToolkitConfigCheck(_files.Options(), "/elsewhere").Run());
        Assert.Equal("toolkit-envvar-accepted", finding.Id);
        Assert.Contains(expected, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Volume_mount_strategy_and_spec_dirs_are_read_and_var_run_equals_run()
    {
        _files.Write(_files.PackageToolkitConfig, """
            accept-nvidia-visible-devices-envvar-when-unprivileged = false
            accept-nvidia-visible-devices-as-volume-mounts = true
            [nvidia-container-runtime.modes.cdi]
            spec-dirs = ["/run/cdi/"]
            """);
        var findings = new ToolkitConfigCheck(_files.Options(), "/var/run/cdi").Run();
        Assert.Equal(["toolkit-volume-mounts-accepted"], OpenIds(findings));
        Assert.Contains(findings, f => f.Id == "toolkit-reads-cdi-root" && f.State == NodeFindingState.Advisory);
    }

    [Fact]
    public void No_toolkit_config_at_all_is_open()
    {
        var finding = Assert.Single(new ToolkitConfigCheck(_files.Options(), CdiRoot).Run());
        Assert.Equal(("toolkit-config-missing", NodeFindingState.Open), (finding.Id, finding.State));
    }

    [Fact]
    public void Containerd_v2_operator_config_with_nvidia_as_default_runtime_is_open()
    {
        _files.Write(_files.ContainerdConfig, NodeFiles.ContainerdV2OperatorToml);
        var findings = new ContainerdConfigCheck(_files.Options(), CdiRoot).Run();
        Assert.Equal(["containerd-nvidia-default-runtime"], OpenIds(findings));
        Assert.DoesNotContain(findings, f => f.Id == "containerd-nri-enabled"); // 1.7: NRI off unless enabled
    }

    [Fact]
    public void Containerd_v3_with_the_operators_drop_in_is_closed_and_nri_is_advisory()
    {
        _files.Write(_files.ContainerdConfig, NodeFiles.ContainerdV3Toml);
        _files.Write(Path.Combine(_files.ContainerdDropIns, "99-nvidia.toml"), NodeFiles.ContainerdNvidiaDropIn);
        var findings = new ContainerdConfigCheck(_files.Options(), CdiRoot).Run();
        Assert.Empty(OpenIds(findings));
        Assert.Equal(["containerd-nri-enabled"], Ids(findings));
    }

    [Fact]
    public void A_later_drop_in_overrides_the_main_file()
    {
        _files.Write(_files.ContainerdConfig, NodeFiles.ContainerdV3Toml);
        _files.Write(Path.Combine(_files.ContainerdDropIns, "50-a.toml"), """
            [plugins."io.containerd.cri.v1.runtime".containerd]
              default_runtime_name = "runc"
            """);
        _files.Write(Path.Combine(_files.ContainerdDropIns, "99-nvidia.toml"), """
            [plugins."io.containerd.cri.v1.runtime".containerd]
              default_runtime_name = "nvidia"
            [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvidia]
              pod_annotations = ["cdi.k8s.io/*"]
            [plugins."io.containerd.cri.v1.runtime"]
              enable_cdi = false
              cdi_spec_dirs = ["/etc/cdi"]
            [plugins."io.containerd.nri.v1.nri"]
              disable = true
            """);
        var findings = new ContainerdConfigCheck(_files.Options(), CdiRoot).Run();
        Assert.Equal(["containerd-cdi-disabled", "containerd-cdi-root-not-read", "containerd-device-annotations-passed", "containerd-nvidia-default-runtime"], OpenIds(findings));
        Assert.DoesNotContain(findings, f => f.Id == "containerd-nri-enabled");
    }

    [Theory]
    [InlineData("*", true)]
    [InlineData("cdi.k8s.io/*", true)]
    [InlineData("nvidia.cdi.k8s.io/*", true)]
    [InlineData("*.noderesource.dev/*", true)]
    [InlineData("io.kubernetes.cri.*", false)]
    [InlineData("example.com/trace", false)]
    public void Pod_annotation_patterns_are_matched_as_globs(string pattern, bool open)
    {
        _files.Write(_files.ContainerdConfig, $$"""
            version = 2
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
              pod_annotations = ["{{pattern}}"]
            """);
        var findings = new ContainerdConfigCheck(_files.Options(), CdiRoot).Run();
        Assert.Equal(open, findings.Any(f => f.Id == "containerd-device-annotations-passed"));
    }

    [Fact]
    public void A_separate_cdi_root_must_be_in_containerds_spec_dirs_explicitly()
    {
        // The recommended setup (docs/hardening.md): --cdi-root=/var/run/securedra/cdi, read by containerd, not by the toolkit.
        _files.Write(_files.ContainerdConfig, "version = 3\n[plugins.\"io.containerd.cri.v1.runtime\"]\nenable_cdi = true\n");
        var missing = Assert.Single(new ContainerdConfigCheck(_files.Options(), "/var/run/securedra/cdi").Run(), f => f.State == NodeFindingState.Open);
        Assert.Equal("containerd-cdi-root-not-read", missing.Id);
        Assert.Contains("cdi_spec_dirs (/etc/cdi, /var/run/cdi) does not include /var/run/securedra/cdi", missing.Message, StringComparison.Ordinal);

        _files.Write(_files.ContainerdConfig, "version = 3\n[plugins.\"io.containerd.cri.v1.runtime\"]\nenable_cdi = true\ncdi_spec_dirs = [\"/etc/cdi\", \"/var/run/cdi\", \"/var/run/securedra/cdi\"]\n");
        Assert.DoesNotContain(new ContainerdConfigCheck(_files.Options(), "/var/run/securedra/cdi").Run(), f => f.State == NodeFindingState.Open);
    }

    [Fact]
    public void No_containerd_config_is_advisory_only()
    {
        var finding = Assert.Single(new ContainerdConfigCheck(_files.Options(), CdiRoot).Run());
        Assert.Equal(("containerd-config-missing", NodeFindingState.Advisory), (finding.Id, finding.State));
    }

    [Fact]
    public void Crio_with_nvidia_as_default_runtime_is_open()
    {
        Assert.Empty(new CrioConfigCheck(_files.Options()).Run());
        _files.Write(Path.Combine(_files.CrioDropIns, "99-nvidia.conf"), NodeFiles.CrioNvidiaDropIn);
        var finding = Assert.Single(new CrioConfigCheck(_files.Options()).Run());
        Assert.Equal(("crio-nvidia-default-runtime", "B2"), (finding.Id, finding.Path));
    }

    [Fact]
    public void A_real_device_plugin_socket_is_open()
    {
        Assert.Empty(new DevicePluginSocketCheck(_files.Options()).Run());
        Directory.CreateDirectory(Path.GetDirectoryName(_files.DevicePluginSocket)!);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(_files.DevicePluginSocket));
        socket.Listen();
        var finding = Assert.Single(new DevicePluginSocketCheck(_files.Options()).Run());
        Assert.Equal(("nvidia-device-plugin-running", "B4", NodeFindingState.Open), (finding.Id, finding.Path, finding.State));
    }

    [Theory]
    [InlineData("1.17.7-1", true)]
    [InlineData("1.16.2-1", true)]
    [InlineData("1.17.8-1", false)]
    [InlineData("1.18.0-1", false)]
    [InlineData("1.20.0~rc.1-1", false)]
    public void Toolkit_version_from_dpkg_status(string version, bool open)
    {
        _files.Write(_files.DpkgStatus, NodeFiles.DpkgStatusWith(version));
        var findings = new ToolkitVersionCheck(_files.Options()).Run();
        Assert.Equal(open ? ["toolkit-version-vulnerable"] : [], OpenIds(findings));
        Assert.DoesNotContain(findings, f => f.State == NodeFindingState.Advisory);
    }

    [Fact]
    public void Removed_package_plain_version_file_and_unknown_version()
    {
        _files.Write(_files.DpkgStatus, NodeFiles.DpkgStatusWith("1.14.0-1", "deinstall ok config-files"));
        Assert.Equal("toolkit-version-unknown", Assert.Single(new ToolkitVersionCheck(_files.Options()).Run()).Id);

        _files.Write(_files.DpkgStatus, "NVIDIA Container Toolkit CLI version 1.17.4\ncommit: 9b69590\n");
        Assert.Equal("toolkit-version-vulnerable", Assert.Single(new ToolkitVersionCheck(_files.Options()).Run()).Id);

        File.Delete(_files.DpkgStatus);
        var unknown = Assert.Single(new ToolkitVersionCheck(_files.Options()).Run());
        Assert.Equal(("toolkit-version-unknown", NodeFindingState.Advisory), (unknown.Id, unknown.State));
    }

    // ---------------------------------------------------------------- hostile and huge files

    [Fact]
    public void A_huge_config_is_refused_with_the_limit_named()
    {
        _files.Write(_files.PackageToolkitConfig, "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n" + new string('#', 300 * 1024));
        var finding = Assert.Single(new ToolkitConfigCheck(_files.Options(), CdiRoot).Run());
        Assert.Equal(("toolkit-config-unreadable", NodeFindingState.Open), (finding.Id, finding.State));
        Assert.Contains("larger than the limit of 262144 bytes", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_linked_to_dev_zero_stops_at_the_limit()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_files.ContainerdConfig)!);
        File.CreateSymbolicLink(_files.ContainerdConfig, "/dev/zero");
        var finding = Assert.Single(new ContainerdConfigCheck(_files.Options(), CdiRoot).Run());
        Assert.Equal("containerd-config-unreadable", finding.Id);
        Assert.Contains("larger than the limit", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fifo_in_place_of_a_config_does_not_hang_the_check()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_files.PackageToolkitConfig)!);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [_files.PackageToolkitConfig]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // No writer: O_NONBLOCK reads it as empty, so the defaults (accept = true) apply: open, not a hang.
        var finding = Assert.Single(new ToolkitConfigCheck(_files.Options(), "/elsewhere").Run());
        Assert.Equal("toolkit-envvar-accepted", finding.Id);
    }

    [Theory]
    [InlineData("deep arrays")]
    [InlineData("deep inline tables")]
    [InlineData("invalid utf-8")]
    [InlineData("duplicate key")]
    [InlineData("not toml")]
    [InlineData("too many values")]
    [InlineData("long key")]
    public void Hostile_toml_is_an_open_finding_naming_the_file_never_a_crash(string kind)
    {
        var bytes = kind switch
        {
            "deep arrays" => Encoding.UTF8.GetBytes("a = " + new string('[', 100_000) + new string(']', 100_000) + "\n"),
            "deep inline tables" => Encoding.UTF8.GetBytes("a = " + string.Concat(Enumerable.Repeat("{b = ", 20_000)) + "1" + new string('}', 20_000) + "\n"),
            "invalid utf-8" => [0x61, 0x20, 0x3d, 0x20, 0x22, 0xff, 0xfe, 0x22, 0x0a],
            "duplicate key" => Encoding.UTF8.GetBytes("accept-nvidia-visible-devices-envvar-when-unprivileged = false\naccept-nvidia-visible-devices-envvar-when-unprivileged = true\n"),
            "not toml" => Encoding.UTF8.GetBytes("{\"accept-nvidia-visible-devices-envvar-when-unprivileged\": false}"),
            "too many values" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => $"k{i} = {i}\n"))),
            "long key" => Encoding.UTF8.GetBytes(new string('k', 300) + " = 1\n"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(_files.PackageToolkitConfig)!);
        File.WriteAllBytes(_files.PackageToolkitConfig, bytes);
        var finding = Assert.Single(new ToolkitConfigCheck(_files.Options(), CdiRoot).Run());
        Assert.Equal(("toolkit-config-unreadable", NodeFindingState.Open), (finding.Id, finding.State));
        Assert.StartsWith("cannot be checked: " + _files.PackageToolkitConfig, finding.Message, StringComparison.Ordinal);

        // The fuzz entry point takes the same bytes without throwing.
        NodeConfigFuzzing.Run(bytes);
    }

    [Fact]
    public void Too_many_drop_ins_are_refused()
    {
        for (var i = 0; i < 40; i++)
        {
            _files.Write(Path.Combine(_files.ContainerdDropIns, $"{i:D2}.toml"), "version = 3\n");
        }

        var finding = Assert.Single(new ContainerdConfigCheck(_files.Options(), CdiRoot).Run());
        Assert.Equal("containerd-config-unreadable", finding.Id);
        Assert.Contains("more than 32 drop-in files", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_and_comments_do_not_count_as_nesting()
    {
        var toml = "a = \"[[[[[[[[[[[[[[[[[[[[[[[[\" # {{{{{{{{{{{{{{{{{{{{{{{{{{{{{\nb = '''\n[[[[[[[[[[[[[[[[[[[[[[[\n'''\nc = [[1, 2], [3]]\n";
        var parsed = NodeToml.Parse(Encoding.UTF8.GetBytes(toml), "t.toml");
        Assert.Null(parsed.Error);
        Assert.Equal("[[[[[[[[[[[[[[[[[[[[[[[[", parsed.Config!.Get("a")!.Text);
        Assert.Equal(TomlValueKind.Array, parsed.Config.Get("c")!.Kind);
    }

    [Fact]
    public void Fuzz_entry_survives_random_and_mutated_inputs()
    {
        // A deterministic smoke run of the fuzz target; the fuzz project runs it for real.
        var random = new Random(17);
        var seeds = new[] { NodeFiles.OperatorToolkitToml, NodeFiles.ContainerdV2OperatorToml, NodeFiles.CrioNvidiaDropIn, NodeFiles.DpkgStatusWith("1.17.8-1") }
            .Select(Encoding.UTF8.GetBytes).ToArray();
        for (var i = 0; i < 2000; i++)
        {
            var data = (byte[])seeds[i % seeds.Length].Clone();
            for (var m = 0; m < 1 + (i % 8); m++)
            {
                data[random.Next(data.Length)] = (byte)random.Next(256);
            }

            NodeConfigFuzzing.Run(data);
        }
    }
}
