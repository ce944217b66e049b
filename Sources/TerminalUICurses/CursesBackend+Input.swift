import CNCursesw
import TerminalUI

extension CursesBackend {
    /// The next key or resize if one is waiting; nil when nothing is (never blocks, apart from
    /// curses' 25 ms wait after a lone Esc). Call it until nil whenever `inputDescriptor` is
    /// readable, and also after a SIGWINCH or an EINTR from poll: curses may hold bytes it has
    /// already read, and a resize is noticed here.
    public func readInput() -> InputEvent? {
        guard active else { return nil }
        let win = cn_stdscr()
        while true {
            var wc: wint_t = 0
            switch wget_wch(win, &wc) {
            case KEY_CODE_YES:
                switch KeyDecoder.event(keyCode: Int32(bitPattern: wc), size: size) {
                case .resize?:
                    if let e = resizeEvent() { return e }
                case let e?: return e
                case nil: break // a key the console has no name for: skip it
                }
            case OK:
                if let e = KeyDecoder.event(character: UInt32(wc)) { return e }
            default:
                // Nothing waiting. If someone else handles SIGWINCH, curses has not seen the new
                // size: ask the kernel, and let curses resize (it then queues KEY_RESIZE).
                var rows: Int32 = 0, cols: Int32 = 0
                if cn_winsize(inputDescriptor, &rows, &cols) == 0, (Int(cols), Int(rows)) != size {
                    resizeterm(rows, cols)
                    continue
                }
                return resizeEvent()
            }
        }
    }

    /// `.resize` with the current size when it differs from the last one reported (curses and the
    /// check above can both notice one change).
    private func resizeEvent() -> InputEvent? {
        let now = size
        guard now != reportedSize else { return nil }
        reportedSize = now
        needsFullRedraw = true
        return .resize(width: now.width, height: now.height)
    }
}
