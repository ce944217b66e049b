import Foundation

/// Files holding a secret (a token, later a private key) must be private to their owner. As ssh
/// does with a private key, one that its group or others may read, write or run is refused rather
/// than used: the secret may already have leaked, and using it would hide that.
public enum SecretFile {
    /// Nil when `path` is private to its owner (or cannot be examined, for the read to say why);
    /// else a sentence naming the file, its mode and the `chmod` that fixes it. A symbolic link is
    /// judged by the file it points to.
    public static func permissionProblem(_ path: String, kind: String = "token file") -> String? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: real),
              let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue else { return nil }
        guard mode & 0o077 != 0 else { return nil }
        let octal = "0" + String(mode & 0o777, radix: 8)
        return "\(kind) \(path) is open to its group or others (mode \(octal)), so it is refused: make it private with chmod 600 \(path)"
    }
}
