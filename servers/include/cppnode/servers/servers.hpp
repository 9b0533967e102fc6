// SPDX-License-Identifier: Apache-2.0
#pragma once

// Everything needed to write, start and supervise C++ GenServers.
#include "cppnode/codec/term_map.hpp"
#include "cppnode/servers/arith.hpp"
#include "cppnode/servers/dest.hpp"
#include "cppnode/servers/errors.hpp"
#include "cppnode/servers/from.hpp"
#include "cppnode/servers/gen_server.hpp"
#include "cppnode/servers/global_registry.hpp"
#include "cppnode/servers/operations.hpp"
#include "cppnode/servers/pg.hpp"
#include "cppnode/servers/phoenix_pubsub.hpp"
#include "cppnode/servers/results.hpp"
#include "cppnode/servers/rex.hpp"
#include "cppnode/servers/rpc.hpp"
#include "cppnode/servers/start.hpp"
#include "cppnode/servers/supervisor.hpp"
