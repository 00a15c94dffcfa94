extension Rule {
    /// Every rule, in the order of alerts/: adding a rule is its definition and one line here.
    static let all: [Rule] = [
        .disabled,
        .unsupportedNodes,
        .noResponderURL,
        .certRevoked,
        .certStatusUnknown,
        .responseStale,
        .responseExpiringSoon,
        .apiDown,
        .stapleMissing,
        .stapleInvalid,
        .stapleMismatch,
        .stapleStale,
        .signerExpiring,
        .queryFailing,
        .clusterCertificateExpiring,
        .proxyCertificateMismatch,
        .responderDown,
        .revocationLag,
        .clientsFailSoon,
        .exporterDown,
        .statusDataStale,
        .notificationsFailing,
        .configReloadFailed,
    ]
}
