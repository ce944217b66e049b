import CNCursesw
import TerminalUI

extension CursesBackend {
    /// Writes the cells that changed since the last frame (all of them after a resize or on the
    /// first draw), clipped to the screen, then updates the terminal once.
    public func draw(_ frame: Frame) {
        guard active else { return }
        let win = cn_stdscr()
        let (cols, rows) = size
        let full = needsFullRedraw || lastFrame.map { $0.width != frame.width || $0.height != frame.height } ?? true
        if full {
            werase(win)
            clearok(cn_curscr(), true)
        }
        for run in frame.changes(since: full ? nil : lastFrame) where run.y < rows && run.x < cols {
            wmove(win, Int32(run.y), Int32(run.x))
            for cell in run.cells.prefix(cols - run.x) {
                // The bottom-right cell returns ERR (the cursor cannot wrap with scrollok off) but
                // is written; nothing scrolls.
                put(cell, in: win)
            }
        }
        lastFrame = frame
        needsFullRedraw = false
        wnoutrefresh(win)
        doupdate()
    }

    private func put(_ cell: Cell, in win: UnsafeMutablePointer<WINDOW>?) {
        let (attrs, pair) = attributes(for: cell.style)
        if let a = cell.text.asciiValue, a >= 0x20, a != 0x7F {
            // The common case, without building an array.
            glyph[0] = wchar_t(a)
            glyph[1] = 0
        } else {
            let scalars = CellGlyph.scalars(for: cell.text, unicode: unicode, maxScalars: Int(cn_ccharw_max())) {
                cn_wcwidth(wchar_t(bitPattern: $0))
            }
            for (i, s) in scalars.enumerated() { glyph[i] = wchar_t(bitPattern: s) }
            glyph[scalars.count] = 0
        }
        var cc = cchar_t()
        glyph.withUnsafeBufferPointer { _ = cn_setcchar(&cc, $0.baseAddress, attrs, pair) }
        wadd_wch(win, &cc)
    }

    /// Curses attributes and colour pair for a style, cached per style.
    private func attributes(for style: Style) -> (attrs: attr_t, pair: Int32) {
        if let known = styles[style] { return known }
        var attrs = cn_a_normal()
        if style.bold { attrs |= cn_a_bold() }
        if style.dim { attrs |= cn_a_dim() }
        if style.reverse { attrs |= cn_a_reverse() }
        if style.underline { attrs |= cn_a_underline() }
        var pair: Int32 = 0
        if let choice = colorDepth.pair(fg: style.fg, bg: style.bg, defaultColors: defaultColors) {
            if choice.boldForBright { attrs |= cn_a_bold() }
            pair = pairNumber(for: ColorPairChoice(fg: choice.fg, bg: choice.bg))
        }
        styles[style] = (attrs, pair)
        return (attrs, pair)
    }

    /// The colour pair for a foreground/background, allocated on first use. Pair 0 is the
    /// terminal's default; when the terminal runs out of pairs, colours fall back to it.
    private func pairNumber(for choice: ColorPairChoice) -> Int32 {
        let defaultPair = defaultColors ? ColorPairChoice(fg: -1, bg: -1) : ColorPairChoice(fg: 7, bg: 0)
        if choice == defaultPair { return 0 }
        if let n = pairs[choice] { return n }
        guard nextPair < cn_color_pairs() else { return 0 }
        let n = nextPair
        let ok: Bool
        if n <= Int32(Int16.max) && choice.fg <= Int32(Int16.max) && choice.bg <= Int32(Int16.max) {
            ok = init_pair(Int16(n), Int16(choice.fg), Int16(choice.bg)) == OK
        } else {
            ok = init_extended_pair(n, choice.fg, choice.bg) == OK
        }
        guard ok else { pairs[choice] = 0; return 0 }
        nextPair += 1
        pairs[choice] = n
        return n
    }
}
