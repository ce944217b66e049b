import Foundation

/// The few file and socket chores the stack, `tower-sim serve` and the tests share.
public enum StackFiles {
    /// Written beside the target and renamed over it, so a reader polling for the file (a script
    /// waiting on stack.json, Tower reading its config) never sees it half-written.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        do { try data.write(to: URL(fileURLWithPath: tmp)) } catch { throw StackError("cannot write \(tmp): \(error)") }
        if rename(tmp, path) != 0 {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw StackError("cannot write \(path): \(why)")
        }
    }

    /// A file only its owner can read (tokens, a bootstrap holding one).
    public static func writePrivate(_ text: String, to path: String) throws {
        unlink(path)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StackError("cannot write \(path)")
        }
    }

    /// A loopback port nobody listens on right now (the kernel's choice for port 0). Another
    /// process could take it before ours binds; on loopback, in practice, nothing does.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StackError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw StackError("cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
