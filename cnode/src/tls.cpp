// SPDX-License-Identifier: Apache-2.0
#include "tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace cppnode::cnode {

namespace ssl = boost::asio::ssl;

codec::Result<std::unique_ptr<ssl::context>, std::string> make_tls_context(const TlsConfig& config,
                                                                           bool server) {
  auto context =
      std::make_unique<ssl::context>(server ? ssl::context::tls_server : ssl::context::tls_client);
  boost::system::error_code ec;
  // TLS 1.2 and 1.3 only, as OTP 25+ offers for distribution.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  auto failed = [&](const std::string& what, const std::string& file) {
    return codec::unexpected("cannot use " + what + " '" + file + "': " + ec.message());
  };
  context->use_certificate_chain_file(config.certfile, ec);
  if (ec) return failed("the certificate file (certfile)", config.certfile);
  context->use_private_key_file(config.keyfile, ssl::context::pem, ec);
  if (ec) return failed("the key file (keyfile)", config.keyfile);
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return codec::unexpected("the key in '" + config.keyfile +
                             "' does not belong to the certificate in '" + config.certfile + "'");
  }
  if (!config.cacertfile.empty()) {
    context->load_verify_file(config.cacertfile, ec);
    if (ec) return failed("the CA file (cacertfile)", config.cacertfile);
  } else if (config.verify_peer) {
    return codec::unexpected("verify_peer needs a CA file (cacertfile)");
  }
  ssl::verify_mode mode = ssl::verify_none;
  if (config.verify_peer) {
    mode = ssl::verify_peer;
    if (server && config.fail_if_no_peer_cert) mode |= ssl::verify_fail_if_no_peer_cert;
  }
  context->set_verify_mode(mode, ec);
  if (ec) return failed("the verify mode for", config.cacertfile);
  return context;
}

std::string tls_failure(const boost::system::error_code& ec, SSL* ssl) {
  std::string why = ec.message();
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      why += " (peer certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
    }
  }
  return why;
}

}  // namespace cppnode::cnode
