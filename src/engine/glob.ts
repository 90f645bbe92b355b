// Path globs for outages and the admin journal filter: `*` matches within one segment, `**` across
// segments. Built from escaped literals only, so no user-supplied regular expression ever runs.
export function globToTest(glob: string): (path: string) => boolean {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`${re}$`);
  return (path) => rx.test(path);
}
