import CCurl
import Foundation

/// libcurl's TLS failures (its error buffer carries OpenSSL's words) turned into a sentence that
/// says what is wrong and what to change, on the client's side of the connection.
enum TLSFailure {
    static func sentence(code: CURLcode, detail: String, url: String, tls: TLSOptions) -> String? {
        let host = CurlSession.hostOf(url)
        let d = detail.lowercased()
        func has(_ words: String...) -> Bool { words.contains { d.contains($0) } }
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
             CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_CRL_BADFILE:
            break
        default:
            return nil
        }
        if has("self-signed", "self signed", "unable to get local issuer", "unable to get issuer", "unable to verify the first certificate") {
            let ca = tls.caBundle.map { "the CA file \($0) does not hold it" } ?? "no CA file is set"
            return "\(host)'s certificate is not signed by a CA this client trusts (\(ca)): set the context's tls.caFile (or --ca-file) to the CA that signed it"
        }
        if has("no alternative certificate subject name matches", "does not match target host name", "hostname mismatch") {
            let name = tls.serverName ?? URLComponents(string: url)?.host ?? "the host"
            return "\(host)'s certificate is not issued for \(name): connect by a name or address the certificate carries, or set the context's tls.serverName to one"
        }
        if has("certificate has expired") && code == CURLE_PEER_FAILED_VERIFICATION {
            return "\(host)'s certificate has expired: the server needs a new one"
        }
        if has("certificate is not yet valid") && code == CURLE_PEER_FAILED_VERIFICATION {
            return "\(host)'s certificate is not valid yet: check the clocks, or the certificate's dates"
        }
        if has("alert protocol version", "unsupported protocol", "no protocols available", "version too low") {
            return "\(host) offers only TLS 1.0 or 1.1, which this client refuses: the server needs TLS 1.2 or later"
        }
        if has("wrong version number", "packet length too long", "record layer failure", "http request") {
            return "\(host) does not speak TLS on this port: use http:// (plain HTTP is served on loopback only), or the port that serves TLS"
        }
        if has("alert bad certificate", "alert certificate required", "alert unknown ca", "alert certificate revoked",
               "alert certificate expired", "alert certificate unknown", "alert access denied", "peer did not return a certificate") {
            let mine = tls.clientCertificate.map { "the client certificate \($0)" } ?? "no client certificate (set tls.certFile and tls.keyFile, or --cert-file and --key-file)"
            return "\(host) refused \(mine) in the TLS handshake (\(detail)): it must be signed by the CA the server trusts, unexpired and not revoked"
        }
        if code == CURLE_SSL_CERTPROBLEM && has("private key") {
            let key = tls.clientKey ?? "-"
            let why = tls.keyPassword == nil
                ? "if it is encrypted, give its passphrase in a file (the context's tls.keyPasswordFile, or --key-password-file)"
                : "the passphrase from the key password file does not open it, or it is not the key of \(tls.clientCertificate ?? "the certificate")"
            return "cannot use the client key \(key): \(why)"
        }
        if code == CURLE_SSL_CERTPROBLEM {
            return "cannot use the client certificate \(tls.clientCertificate ?? "-") with the key \(tls.clientKey ?? "-"): \(detail)"
        }
        if code == CURLE_SSL_CACERT_BADFILE {
            return "cannot read the CA file \(tls.caBundle ?? "-"): \(detail)"
        }
        if code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR { return nil }
        return "\(host): TLS handshake failed: \(detail)"
    }
}
