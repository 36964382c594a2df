/**
 * Go's text/tabwriter, as vegeta configures it (minwidth 0, padding 2, pad char ' ', no flags), so
 * our text and histogram reports line up exactly as vegeta's do: cells are tab-terminated; the text
 * after a line's last tab is not a cell; a column block is a run of consecutive lines that have a
 * cell in that column, and each block is as wide as its widest cell plus the padding.
 */
export function tabwrite(text: string, padding = 2): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const width = (s: string) => [...s].length; // runes, as Go counts them (µ is one)

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j]!;
        if (j < cells.length - 1) s += c + ' '.repeat(Math.max(0, (widths[j] ?? 0) - width(c)));
        else s += c;
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i]!.length - 1) continue;
      // A block of lines with a cell in this column starts here.
      writeLines(line0, i);
      line0 = i;
      let w = 0;
      for (; i < line1; i++) {
        const cells = lines[i]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + padding);
      }
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--; // the for loop's i++ must look at line i again
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}
