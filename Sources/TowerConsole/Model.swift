import Foundation
import TerminalUI
import TowerDomain

/// Screens form a stack: Esc pops.
public enum Screen: Equatable, Sendable {
    case overview
    case endpoint(String)
    case help
}

/// A change the operator asked for, as the registry client will send it.
public struct ChangeRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case shift([String: Int])
        case drain(version: String?)
        case undrain(version: String?)
        case rollback(toRevision: Int64?)
    }
    public var endpoint: String
    public var expected: Int64
    public var kind: Kind
    public var reason: String
}

/// Why a submitted change did not happen, as the console shows it.
public enum ChangeFailure: Equatable, Sendable {
    /// 412: someone else changed the endpoint; `current` is its state now.
    case stale(current: Endpoint?, detail: String)
    /// The registry refused (401, 403, 409, 422 …) with its own explanation.
    case refused(status: Int, detail: String)
    /// No answer from the registry.
    case unreachable(String)
}

/// The one confirmation dialog every action goes through.
public struct Dialog: Equatable, Sendable {
    public enum Field: Equatable, Sendable { case reason, typedName, weights(Int) }
    public var request: ChangeRequest
    public var title: String
    /// Weights before and after, by version, for the before → after table.
    public var before: [String: Int]
    public var after: [String: Int]
    /// For whole-endpoint drains: the operator must type the endpoint's name.
    public var needsTypedName: Bool
    public var typedName = ""
    public var focus: Field = .reason
    public var submitting = false
    public var error: String?
    /// After a 412: what the endpoint looks like now, offered for re-applying.
    public var conflict: Endpoint?
    /// Rollback: the revisions to choose from (newest first) and the chosen one.
    public var revisions: [RevisionRecord] = []
    public var revisionIndex = 0
    /// Weight editor: the versions being edited, in order.
    public var editorVersions: [String] = []
}

public struct ConsoleState: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var screens: [Screen] = [.overview]
    public var endpoints: [Endpoint] = []
    public var auditSeq: Int64 = 0
    /// When the registry last answered, and why it did not since.
    public var lastRead: Date?
    public var registryError: String?
    public var now: Date
    public var selection = 0
    public var versionSelection = 0
    public var filter = ""
    public var filterEditing = false
    public var readOnly: Bool
    public var contextName: String
    public var dialog: Dialog?
    public var toast: String?
    public var revisions: [String: [RevisionRecord]] = [:]
    public var quitting = false
    /// ASCII only (the locale is not UTF-8).
    public var ascii = false
    public var keymap: Keymap

    public init(width: Int, height: Int, now: Date, contextName: String = "default", readOnly: Bool = false, keymap: Keymap = .standard) {
        self.width = width; self.height = height; self.now = now; self.contextName = contextName
        self.readOnly = readOnly; self.keymap = keymap
    }

    public var screen: Screen { screens.last ?? .overview }

    /// The endpoints the overview shows: filtered by substring, or by regex when the filter is
    /// written `/like this/`.
    public var visibleEndpoints: [Endpoint] {
        guard !filter.isEmpty else { return endpoints }
        if filter.count > 2, filter.hasPrefix("/"), filter.hasSuffix("/"),
           let re = try? Regex(String(filter.dropFirst().dropLast())) {
            return endpoints.filter { (try? re.firstMatch(in: $0.name)) != nil || (try? re.firstMatch(in: $0.owner)) != nil }
        }
        let f = filter.lowercased()
        return endpoints.filter { $0.name.contains(f) || $0.owner.lowercased().contains(f) }
    }

    public var selectedEndpoint: Endpoint? {
        switch screen {
        case .endpoint(let name): endpoints.first { $0.name == name }
        default: visibleEndpoints.indices.contains(selection) ? visibleEndpoints[selection] : nil
        }
    }

    /// True when the data on screen is older than two watch cycles or the registry is failing.
    public var isStale: Bool {
        guard let lastRead else { return true }
        return registryError != nil && now.timeIntervalSince(lastRead) > 2
    }
}

public enum Message: Equatable, Sendable {
    case key(KeyEvent)
    case resize(width: Int, height: Int)
    case tick(Date)
    case endpointsLoaded(EndpointList, at: Date)
    case registryFailed(String, at: Date)
    case revisionsLoaded(endpoint: String, [RevisionRecord])
    case changeApplied(Endpoint)
    case changeFailed(ChangeFailure)
}

/// What `update` asks the runtime to do: plain data, so tests can inspect it.
public enum Effect: Equatable, Sendable {
    case loadEndpoints
    case watch(after: Int64)
    case loadRevisions(String)
    case submit(ChangeRequest)
    case quit
}
