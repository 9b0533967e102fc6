// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "cppnode/cnode/node.hpp"
#include "cppnode/codec/result.hpp"

namespace cppnode::cnode {

/// The TLS context for one direction of `config` (server: connections we accept; client: those
/// we open), or why not, naming the file and OpenSSL's reason.
codec::Result<std::unique_ptr<boost::asio::ssl::context>, std::string> make_tls_context(
    const TlsConfig& config, bool server);

/// Why a TLS handshake failed, for the log: OpenSSL's reason and, when the peer's certificate
/// was refused, the verification's (`certificate has expired`, ...).
std::string tls_failure(const boost::system::error_code& ec, SSL* ssl);

}  // namespace cppnode::cnode
