import Logging

/// What the monitoring user may read on a cluster, as the REST round shows it. The OCSP
/// endpoints' permissions belong to the admin role only; every other role reads nodes and
/// cluster alerts, and the stapling probe needs no credentials.
enum AccessLevel: String, Sendable, CaseIterable {
    /// The OCSP endpoints answer.
    case admin
    /// They answer 403 (or are not polled) while nodes or cluster alerts answer.
    case viewer
    /// Nothing answers. (Not `none`, which an optional level would read as nil.)
    case noAccess = "none"

    /// The level a round shows; `previous` where it cannot tell (the OCSP endpoints fail
    /// otherwise than with 403 while the others answer).
    static func of(ocsp: [CheckFailure?], others: [CheckFailure?], previous: AccessLevel?) -> AccessLevel? {
        if ocsp.contains(where: { $0 == nil || $0!.passedAuthorization }) { return .admin }
        if !others.contains(where: { $0 == nil }) { return .noAccess }
        if ocsp.isEmpty || ocsp.contains(where: { $0?.httpStatus == 403 }) { return .viewer }
        return previous
    }

    /// Says once per change what the level means and, for a viewer refused by the OCSP
    /// endpoints, how to fix it.
    static func logChange(from before: AccessLevel?, to after: AccessLevel?, refused: [String], context: CheckContext) {
        guard let after, after != before else { return }
        var metadata: Logger.Metadata = ["cluster": "\(context.cluster.name)", "access_level": "\(after.rawValue)"]
        if let before { metadata["previous_access_level"] = "\(before.rawValue)" }
        if after == .viewer, !refused.isEmpty {
            metadata["hint"] = "\(viewerHint(refused: refused))"
            context.logger.warning("the OCSP endpoints answer 403: running at viewer level", metadata: metadata)
        } else {
            context.logger.info("access level", metadata: metadata)
        }
    }

    /// The fix for a user the OCSP endpoints refuse, naming the permissions it lacks.
    static func viewerHint(refused permissions: [String]) -> String {
        "the user lacks \(permissions.joined(separator: ", ")); the OCSP endpoints need the admin role; "
            + "continuing with nodes, cluster alerts and the stapling probe "
            + "(to run at viewer level on purpose, list only nodes, alerts, cluster and health in the cluster's endpoints:)"
    }
}

extension ClusterSnapshot {
    /// The permissions of the OCSP endpoints whose latest answer was 403.
    var refusedPermissions: [String] {
        RESTRound.checks.compactMap { check in
            guard check.isOCSPEndpoint, health(check.id)?.error?.httpStatus == 403 else { return nil }
            return check.permission
        }
    }
}

extension CheckFailure {
    /// The cluster answered with its own error code past the permission check (406
    /// ocsp_unsupported_by_capability, no_responder_url, ...), so the user may read the endpoint.
    var passedAuthorization: Bool {
        guard let status = httpStatus, status != 401, status != 403 else { return false }
        return code != "http_\(status)"
    }
}

extension ClusterFamily {
    static let accessLevel = ClusterFamily("redis_ocsp_access_level", .gauge, "What the monitoring user may read: admin while the OCSP endpoints answer, viewer while they answer 403 and nodes or alerts answer, none while nothing answers; 1 for the current level, 0 for the others.")
}
