Console.WriteLine("bench: see docs/performance.md");
