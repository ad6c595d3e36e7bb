#pragma once
/// The HTTP adapters' server is the shared one in lib/http (gridhub/http/server.hpp); these names keep
/// the adapters' code reading as before.

#include "gridhub/http/server.hpp"

namespace gridhub::adapter {

using http::AsyncHttpHandler;
using http::HttpHandler;
using http::HttpRequest;
using http::HttpResponder;
using http::HttpResponse;
using http::HttpServer;
using http::HttpServerOptions;
using http::url_decode;

}  // namespace gridhub::adapter
