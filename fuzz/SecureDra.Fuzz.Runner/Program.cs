using System.Globalization;
using SecureDra.Fuzz;

// securedra-fuzz: the command line of the fuzzing setup (see fuzz/README.md).
//   afl TARGET                  AFL++ entry point (SharpFuzz out-of-process loop); run under afl-fuzz
//   replay TARGET PATH...       run files or folders through the target, print each verdict or finding
//   mutate TARGET COUNT SEED    the CI smoke's in-process mutation loop with a chosen size and seed
//   sample TARGET COUNT SEED DIR  write mutants to DIR
//   scaling TARGET|all          the linear-time check: growth of time against growth of size per input shape
//   list                        the registered targets
// Exit: 0 nothing found, 1 a finding, 2 usage.
if (args.Length == 0)
{
    return Usage("no command");
}

switch (args[0])
{
    case "list":
        Console.WriteLine(string.Join('\n', FuzzTargets.Names));
        return 0;
    case "afl" when args.Length == 2:
        {
            var name = args[1];
            _ = FuzzTargets.Names.Contains(name) ? name : throw new ArgumentException($"unknown fuzz target '{name}'");
            IFuzzTarget? target = null;
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                // Created inside the loop: instrumented code may only run once SharpFuzz has mapped AFL++'s
                // shared coverage memory, and a target's constructor already runs product code.
                target ??= Create(name);
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                // Every finding is an exception that leaves this callback: AFL++ records it as a crash.
                target.Run(buffer.ToArray());
            });
            return 0;
        }

    case "replay" when args.Length >= 3:
        {
            var target = Create(args[1], slowPaths: true);
            var found = 0;
            foreach (var file in args[2..].SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal).ToArray() : new[] { p }))
            {
                try
                {
                    Console.WriteLine($"{file}: {target.Run(File.ReadAllBytes(file))}");
                }
#pragma warning disable CA1031 // Every finding is reported, then the replay goes on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    found++;
                    Console.WriteLine($"{file}: FINDING {ex.GetType().Name}: {ex.Message}");
                }
            }

            return found == 0 ? 0 : 1;
        }

    case "mutate" when args.Length == 4:
        {
            var target = Create(args[1]);
            var corpus = FuzzCorpus.Load(FuzzCorpus.FindFuzzDirectory(AppContext.BaseDirectory), args[1]);
            var report = FuzzLoop.Mutate(target, corpus, Parse(args[3]), Parse(args[2]), TimeSpan.FromSeconds(5));
            Console.WriteLine($"{report.Target}: {report.Executions} inputs in {report.Elapsed.TotalSeconds:0.00} s, {report.Accepted} accepted, {report.Rejected} rejected, {report.NotApplicable} not applicable; slowest {report.SlowestInput.TotalMilliseconds:0.0} ms ({report.SlowestInputBytes} bytes)");
            if (report.Finding is not null)
            {
                Console.WriteLine($"FINDING: {report.Finding.Message}\ninput (base64): {Convert.ToBase64String(report.FindingInput!)}");
                return 1;
            }

            return 0;
        }

    case "sample" when args.Length == 5:
        {
            // Writes mutants to a folder: to look at what the mutator makes, or to grow a corpus.
            var target = Create(args[1]);
            var corpus = FuzzCorpus.Load(FuzzCorpus.FindFuzzDirectory(AppContext.BaseDirectory), args[1]);
            Directory.CreateDirectory(args[4]);
            var i = 0;
            foreach (var mutant in FuzzLoop.Mutants(target, corpus, Parse(args[3]), Parse(args[2])))
            {
                File.WriteAllBytes(Path.Combine(args[4], $"mutant-{i++:D6}"), mutant);
            }

            return 0;
        }

    case "scaling" when args.Length == 2:
        {
            var found = 0;
            foreach (var name in args[1] == "all" ? FuzzTargets.Names : [args[1]])
            {
                foreach (var result in ScalingCheck.Run(Create(name)))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-20} {result.Shape,-36} {result.SmallBytes,8} B {result.Small.TotalMilliseconds,9:0.00} ms -> {result.LargeBytes,8} B {result.Large.TotalMilliseconds,9:0.00} ms  x{result.TimeRatio,7:0.0} for x{result.SizeRatio:0.0}{(result.LooksSuperLinear ? "  SUPER-LINEAR" : "")}"));
                    found += result.LooksSuperLinear ? 1 : 0;
                }
            }

            return found == 0 ? 0 : 1;
        }

    default:
        return Usage($"unknown command or wrong arguments: {string.Join(' ', args)}");
}

static IFuzzTarget Create(string name, bool slowPaths = false) => FuzzTargets.Create(name, slowPaths);

static int Parse(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

static int Usage(string problem)
{
    Console.Error.WriteLine($"securedra-fuzz: {problem}; usage: securedra-fuzz list | afl TARGET | replay TARGET PATH... | mutate TARGET COUNT SEED | sample TARGET COUNT SEED DIR | scaling TARGET|all");
    return 2;
}
