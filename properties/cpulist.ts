// A set of CPUs as the kernel prints one in /sys/devices/system/cpu/online: ranges, "0-3,5"
// (lib/bitmap-str.c bitmap_print_to_pagebuf with list=true, "%*pbl"). On 256 CPUs a state
// view or a message names them in a few characters, not a thousand.

/** `ids` ascending: "0-3,5,7-8"; "" for none. */
export function cpulist(ids: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    out.push(j === i ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
