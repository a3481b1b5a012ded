// A flag's value read from the raw command line, before (or without) commander: for what must be
// known when the options are not parsed yet — the secrets an unexpected error's text must not
// show (program.ts), the pool the entry starts early (early-threads.ts).

/** The value of the last `--flag value` or `--flag=value` in `args` (commander keeps the last too); '' for a trailing `--flag`. */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === flag) value = args[i + 1] ?? '';
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  });
  return value;
}
