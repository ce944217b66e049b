import ArgumentParser
import Foundation
import TowerDomain
import TowerSources

/// `tower promote …`: signed promotion bundles between registries (DESIGN §13). The key pair is
/// the exporter's; the registry that imports verifies everything and trusts only the keys in
/// its own configuration.
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Carry a version from one registry to another as a signed bundle: keygen, export, import.",
        subcommands: [Keygen.self, Export.self, Import.self])

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an Ed25519 key pair: DIR/promotion.key (private, mode 0600) and DIR/promotion.pub.",
            discussion: "Existing files are never overwritten. Give promotion.pub to the registries that should trust bundles signed with it (tower-registry serve --trust-promotion-keys).")
        @Option(help: "Directory for the two files (created if missing).") var out: String
        @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text

        func run() throws {
            let key = PromotionSigningKey()
            let pub = key.publicKey
            let privatePath = (out as NSString).appendingPathComponent("promotion.key")
            let publicPath = (out as NSString).appendingPathComponent("promotion.pub")
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
                    throw VerbError(message: "\(path) exists; keygen never overwrites a key (move it away first)", code: Exit.conflict)
                }
                try KeyFiles.createExclusive(privatePath, contents: key.text + "\n", mode: 0o600)
                try KeyFiles.createExclusive(publicPath, contents: pub.text + " " + pub.fingerprint + "\n", mode: 0o644)
            } catch let e as VerbError {
                report(output, message: e.message, code: e.code, problem: nil)
            } catch {
                report(output, message: "cannot write the key pair in \(out): \(error)", code: Exit.other, problem: nil)
            }
            if output == .json {
                struct Out: Encodable { var keyId: String; var publicKey: String; var privateKeyFile: String; var publicKeyFile: String }
                try printJSON(Out(keyId: pub.fingerprint, publicKey: pub.text, privateKeyFile: privatePath, publicKeyFile: publicPath))
                return
            }
            print("key id \(pub.fingerprint)")
            print("private key \(privatePath) (mode 0600: keep it on the exporting side)")
            print("public key  \(publicPath): \(pub.text)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a version's bundle: tower promote export ENDPOINT VERSION --key promotion.key -o bundle.json.",
            discussion: "The registry gives the version's spec, artifact digest, evaluation documents, audit entries and its own id (admin); this adds a unique id and an expiry and signs it.")
        @OptionGroup var connection: PromotionConnectionOptions
        @Argument(help: "The endpoint.") var endpoint: String
        @Argument(help: "The version.") var version: String
        @Option(help: "The private key file (from tower promote keygen).") var key: String
        @Option(name: [.customShort("o"), .long], help: "The bundle file to write.") var file: String
        @Option(help: "How long the bundle may be imported: 30m, 12h, 7d (at most 90d).") var expires = "7d"

        func run() async throws {
            try await perform(connection.output) {
                guard let validity = PromotionDuration.parse(expires) else {
                    throw VerbError(message: "--expires must be minutes, hours or days up to 90d, like 30m, 12h or 7d; not '\(expires)'", code: Exit.invalid)
                }
                let signingKey: PromotionSigningKey
                do { signingKey = try PromotionSigningKey.load(path: key) } catch { throw VerbError(message: "\(error)", code: Exit.invalid) }
                let client = try connection.client()
                let payload = try await client.promotionPayload(endpoint, version: version)
                let bytes: [UInt8]
                do { bytes = try PromotionBundle.sign(payload, with: signingKey, validFor: validity) } catch {
                    throw VerbError(message: "cannot sign the bundle: \(error)", code: Exit.other)
                }
                // Read back through the importer's own checks, so a bundle that would be refused is never written.
                let verified: VerifiedBundle
                do { verified = try PromotionBundle.read(bytes) } catch { throw VerbError(message: "the bundle made would be refused: \(error)", code: Exit.other) }
                do { try Data(bytes).write(to: URL(fileURLWithPath: file), options: .atomic) } catch {
                    throw VerbError(message: "cannot write \(file): \(error.localizedDescription)", code: Exit.other)
                }
                if connection.output == .json {
                    struct Out: Encodable {
                        var file: String; var id: String; var endpoint: String; var version: String; var artifactDigest: String
                        var sourceRegistry: String; var signer: String; var expiresAt: Date; var sha256: String; var evaluations: Int; var auditEntries: Int
                    }
                    try printJSON(Out(file: file, id: verified.signed.id, endpoint: payload.endpoint, version: payload.version.name,
                                      artifactDigest: payload.artifactDigest, sourceRegistry: payload.sourceRegistry, signer: verified.signer.fingerprint,
                                      expiresAt: verified.signed.expiresAt, sha256: verified.sha256, evaluations: payload.evaluations.count,
                                      auditEntries: payload.audit.count))
                    return
                }
                print("wrote \(file): \(payload.endpoint) \(payload.version.name) (\(payload.artifactDigest)) from registry \(payload.sourceRegistry)")
                print("bundle \(verified.signed.id), \(payload.evaluations.count) evaluation(s), \(payload.audit.count) audit entries, signed by \(verified.signer.fingerprint), expires \(Timestamp.rfc3339(ms: Timestamp.ms(verified.signed.expiresAt)))")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Land a bundle's version on this registry at weight 0: tower promote import bundle.json --trust KEY[,KEY…].",
            discussion: """
                The registry verifies the size, the signature, that the signer is one of the keys it trusts \
                (its --trust-promotion-keys) and one of those named here, the expiry, that the bundle was never \
                imported before, and the digests; then lands the version with the gate its own evaluation policy \
                gives. Any refusal changes nothing and exits non-zero with the reason. --trust takes public keys \
                (ed25519:…), their fingerprints, or .pub files.
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The bundle file.") var bundle: String
        @Option(help: "The keys this import accepts, comma-separated: ed25519:<hex>, a fingerprint, or a .pub file.") var trust: String
        @Option(help: "Why: recorded in the audit log (default: promoted from registry X).") var reason: String?

        func run() async throws {
            try await perform(connection.output) {
                var fingerprints: [String] = []
                for item in trust.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                    do { fingerprints.append(try TrustArgument.fingerprint(item)) } catch { throw VerbError(message: "--trust: \(error)", code: Exit.invalid) }
                }
                if fingerprints.isEmpty { throw VerbError(message: "--trust needs at least one key", code: Exit.invalid) }
                let bytes: [UInt8]
                do { bytes = try PromotionBundleFile.read(path: bundle) } catch { throw VerbError(message: "\(error)", code: Exit.invalid) }
                let (client, ctx) = try connection.client()
                if ctx?.readOnly == true { throw VerbError(message: "read-only context '\(ctx?.name ?? "")': nothing is imported", code: Exit.forbidden) }
                let result = try await client.importPromotion(bytes, trust: fingerprints, reason: reason)
                if connection.output == .json { try printJSON(result); return }
                let v = result.endpoint.version(result.version)
                print("\(result.endpoint.name) \(result.version) imported at weight 0 (revision \(result.endpoint.revision)) from registry \(result.sourceRegistry), signed by \(result.signer)")
                print("gate \(v?.gate.rawValue ?? "?")\(v?.gateSummary.map { ": \($0)" } ?? ""); bundle \(result.bundle) sha256 \(result.bundleSha256)")
            }
        }
    }
}

/// `--trust` items: a public key, a fingerprint, or a file holding a public key.
enum TrustArgument {
    static func fingerprint(_ item: String) throws(PromotionKeyError) -> String {
        if item.hasPrefix(PromotionPublicKey.prefix) { return try PromotionPublicKey(text: item).fingerprint }
        if Hex.decode(item, count: 32) != nil { return item }
        guard let text = try? String(contentsOfFile: item, encoding: .utf8) else {
            throw PromotionKeyError("'\(Names.printable(item, limit: 80))' is not a key (ed25519:…), a fingerprint (64 hex digits) or a readable .pub file")
        }
        do { return try PromotionPublicKey(text: text).fingerprint } catch { throw PromotionKeyError("\(item): \(error)") }
    }
}

enum PromotionDuration {
    /// `30m`, `12h`, `7d` (or plain seconds with `s`), more than 0 and at most 90 days.
    static func parse(_ s: String) -> TimeInterval? {
        guard let unit = s.last, let n = Int(s.dropLast()), n > 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = Double(n)
        case "m": seconds = Double(n) * 60
        case "h": seconds = Double(n) * 3600
        case "d": seconds = Double(n) * 86400
        default: return nil
        }
        return seconds <= PromotionBundle.maxValidity ? seconds : nil
    }
}

enum KeyFiles {
    /// Creates `path` with `mode` from the start (O_EXCL: never over an existing file, and never
    /// readable by others for a moment before a chmod).
    static func createExclusive(_ path: String, contents: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw VerbError(message: "cannot create \(path): \(String(cString: strerror(errno)))", code: Exit.other) }
        defer { close(fd) }
        // The umask may have taken bits away; the mode is set exactly.
        _ = fchmod(fd, mode)
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw VerbError(message: "cannot write \(path)", code: Exit.other) }
    }
}

/// `ConnectionOptions` without its `-o` short name, which `export` gives to the bundle file (as
/// the brief's `-o bundle.json` reads); `--output` stays.
struct PromotionConnectionOptions: ParsableArguments {
    @Option(help: "Registry URL, e.g. http://127.0.0.1:8470 (default: the context's).") var registry: String?
    @Option(help: "File holding the API token (default: the context's, then $TOWER_TOKEN).") var tokenFile: String?
    @Option(help: "Context from the config file ($XDG_CONFIG_HOME/tower/config.yaml).") var context: String?
    @Option(help: "Config file.") var config: String?
    @Option(name: .long, help: "text or json.") var output: OutputFormat = .text

    func client() throws -> RegistryClient {
        let cfg = try TowerConfig.load(path: config ?? TowerConfig.defaultPath())
        let ctx = try cfg.context(named: context, registryFlag: registry)
        guard let url = registry ?? ctx?.registry else {
            throw ConfigError("no registry: pass --registry URL or choose a context with --context")
        }
        // The context's TLS too: a promotion carries a token and a bundle, never in clear by accident.
        return try RegistryClient.make(url: url, token: try TokenSource.read(file: tokenFile ?? ctx?.tokenFile), tls: ctx?.tls)
    }
}
