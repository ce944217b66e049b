import Foundation
import TowerConsole
import TowerRollouts
import TowerSources

/// The rollout of the endpoint on screen, and the runbook files `R` offers.
extension EffectRunner {
    /// A failed read is shown beside the last one read; it does not count towards the registry's
    /// health (the endpoint reads tell that), and the tick asks again.
    func loadRollout(_ name: String) {
        let (client, gen) = current.withLock { ($0.client, $0.generation) }
        Task.detached { [self] in
            do {
                let status: RolloutStatus = try await client.rollout(name)
                post(.rolloutLoaded(status, at: clock()), ifStill: gen)
            } catch {
                post(.rolloutFailed(endpoint: name, Self.sentence(error), at: clock()), ifStill: gen)
            }
        }
    }

    /// Every endpoint's rollout for the overview. A failed read is dropped: the list ages out of
    /// belief on screen (`RolloutsView.listFreshFor`), and the endpoint reads tell the registry's health.
    func loadRolloutList() {
        let (client, gen) = current.withLock { ($0.client, $0.generation) }
        Task.detached { [self] in
            guard let list: RolloutList = try? await client.rollouts() else { return }
            post(.rolloutListLoaded(list, at: clock()), ifStill: gen)
        }
    }

    /// `$XDG_CONFIG_HOME/tower/runbooks/`: the YAML files in it, by name. Contexts have no
    /// `runbooks:` key yet, so every context offers the same folder.
    func listRunbooks() {
        let folder = Self.runbookFolder()
        Task.detached { [post] in
            do {
                let names = try FileManager.default.contentsOfDirectory(atPath: folder)
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                post(.runbooksListed(folder: folder, names, error: nil))
            } catch {
                post(.runbooksListed(folder: folder, [], error: "cannot read \(folder): no such folder, or it cannot be listed"))
            }
        }
    }

    static func runbookFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let config = TowerConfig.defaultPath(environment: environment)
        return (config as NSString).deletingLastPathComponent + "/runbooks"
    }

    /// The runbook at `path`, refused above `Runbook.maxBytes` before it is read whole.
    static func readRunbook(_ path: String) throws -> Runbook {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > Runbook.maxBytes {
            throw RunbookReadError(message: "\(path): the runbook is \(size) bytes; the limit is \(Runbook.maxBytes)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RunbookReadError(message: "cannot read \(path)")
        }
        return try Runbook.parse(yaml: text, file: path)
    }
}

struct RunbookReadError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
