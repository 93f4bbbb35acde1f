// Preloaded into a child process by the benchmark: reports its peak resident memory on exit.
process.on('exit', () => {
  process.stderr.write(`maxRSS_kB=${process.resourceUsage().maxRSS}\n`);
});
