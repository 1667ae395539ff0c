//! Go's `text/tabwriter` as `kubectl describe` configures it (minwidth 0, padding 2, spaces):
//! cells end at tabs; consecutive lines that have a cell in the same column form a block whose
//! width is its widest cell plus padding; a line without that cell ends the block. This is why
//! describe output aligns in runs rather than as one table.

const PADDING: usize = 2;

pub struct TabWriter {
    buffered: String,
    out: String,
    padding: usize,
    min_width: usize,
}

impl Default for TabWriter {
    fn default() -> Self {
        TabWriter { buffered: String::new(), out: String::new(), padding: PADDING, min_width: 0 }
    }
}

impl TabWriter {
    /// kubectl's `printers.GetNewTabWriter` (minwidth 6, padding 3), as `kubectl top` uses:
    /// every cell ends in a tab, so the last column is padded too.
    pub fn printer() -> TabWriter {
        TabWriter { padding: 3, min_width: 6, ..TabWriter::default() }
    }

    pub fn write(&mut self, text: &str) {
        self.buffered.push_str(text);
    }

    /// Formats what is buffered; later text aligns on its own (kubectl flushes before Events).
    pub fn flush(&mut self) {
        let text = std::mem::take(&mut self.buffered);
        let mut lines: Vec<Vec<String>> = text.split('\n').map(|l| l.split('\t').map(str::to_string).collect()).collect();
        let ends_with_newline = text.ends_with('\n');
        if ends_with_newline {
            lines.pop();
        }
        let mut widths = Vec::new();
        let shape = (self.padding, self.min_width);
        format(&lines, &mut widths, 0, lines.len(), shape, &mut self.out);
        if !ends_with_newline && self.out.ends_with('\n') {
            self.out.pop();
        }
    }

    /// The text as written, tabs and all (kubectl's `PrefixWriter` without a tabwriter, as
    /// `rollout history --revision` prints a template).
    pub fn raw(self) -> String {
        self.buffered
    }

    pub fn finish(mut self) -> String {
        self.flush();
        self.out
    }
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

fn format(lines: &[Vec<String>], widths: &mut Vec<usize>, mut line0: usize, line1: usize, shape: (usize, usize), out: &mut String) {
    let (padding, min_width) = shape;
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        // A block of lines with a tab-terminated cell in this column begins here.
        write_lines(lines, widths, line0, this, out);
        line0 = this;
        let mut block_width = min_width;
        while this < line1 && column + 1 < lines[this].len() {
            block_width = block_width.max(width(&lines[this][column]) + padding);
            this += 1;
        }
        widths.push(block_width);
        format(lines, widths, line0, this, shape, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, widths, line0, line1, out);
}

fn write_lines(lines: &[Vec<String>], widths: &[usize], line0: usize, line1: usize, out: &mut String) {
    for line in &lines[line0..line1] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(j) {
                out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::TabWriter;

    #[test]
    fn aligns_in_blocks_like_go() {
        let mut w = TabWriter::default();
        w.write("Name:\tweb\nService Account:\tdefault\nIPs:\n  IP:\t10.0.0.1\nControlled By:\tReplicaSet/x\n");
        assert_eq!(
            w.finish(),
            "Name:             web\nService Account:  default\nIPs:\n  IP:           10.0.0.1\nControlled By:  ReplicaSet/x\n"
        );
    }

    #[test]
    fn nested_columns_and_flush() {
        let mut w = TabWriter::default();
        w.write("a\tbb\tc\nlonger\tb\tc\nx\ty\n");
        w.flush();
        w.write("Type\tReason\n----\t------\n");
        assert_eq!(w.finish(), "a       bb  c\nlonger  b   c\nx       y\nType  Reason\n----  ------\n");
    }

    #[test]
    fn the_printer_pads_every_tab_terminated_cell_to_at_least_six() {
        let mut w = TabWriter::printer();
        w.write("NAME\tCPU(cores)\t\nab\t1m\t\n");
        assert_eq!(w.finish(), "NAME   CPU(cores)   \nab     1m           \n");
    }
}
