// gridhub-wechat (file import): residents' group-chat exports (MemoTrace CSV and TXT, PyWxDump CSV) and saved
// Official Account callback bodies (*.xml) into the hub through a local outbox. A location message
// followed within 10 minutes by a text from the same sender gives that text its coordinates.
//
// gridhub-wechat -c FILE serve: the Official Account / WeCom callback URL over HTTP
// (gridhub/wechat/callback_endpoint.hpp); prints "READY http=HOST:PORT" once it accepts requests.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/http_adapter.hpp"
#include "gridhub/adapter/file_import.hpp"
#include "gridhub/adapter/http_intake.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/adapter/read_file.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/wechat/callback_endpoint.hpp"
#include "gridhub/wechat/location_pairing.hpp"
#include "gridhub/wechat/memotrace.hpp"
#include "gridhub/wechat/oa_message.hpp"
#include "gridhub/wechat/pywxdump.hpp"

namespace {

namespace v1 = gridhub::v1;

gridhub::config::Spec wechat_spec() {
  using gridhub::config::Type;
  auto spec = gridhub::adapter::adapter_config_spec();
  spec.push_back({"wechat.utc_offset_minutes", Type::kInteger, false, "local time of the exports (480 = UTC+8)"});
  spec.push_back({"wechat.location_window_s", Type::kInteger, false, "a location then a text within this many seconds belong together"});
  // serve mode: the callback URL
  spec.push_back({"wechat.listen", Type::kString, false, "serve: HTTP address host:port (port 0: any free port)"});
  spec.push_back({"wechat.path", Type::kString, false, "serve: the callback URL path registered with WeChat"});
  spec.push_back({"wechat.token", Type::kString, false, "serve: the Token set in the WeChat console"});
  spec.push_back({"wechat.token_file", Type::kString, false, "serve: a file holding the Token (instead of wechat.token)"});
  spec.push_back({"wechat.encoding_aes_key", Type::kString, false, "serve: EncodingAESKey (43 chars); absent: plaintext mode only"});
  spec.push_back({"wechat.encoding_aes_key_file", Type::kString, false, "serve: a file holding the EncodingAESKey"});
  spec.push_back({"wechat.appid", Type::kString, false, "serve: the Official Account's AppID (encrypted mode checks it)"});
  spec.push_back({"wechat.corpid", Type::kString, false, "serve: the WeCom CorpID (instead of appid, for WeCom apps)"});
  spec.push_back({"wechat.body_limit_bytes", Type::kInteger, false, "serve: larger request bodies are answered 413"});
  spec.push_back({"wechat.allow_plaintext", Type::kBoolean, false,
                  "serve: with an EncodingAESKey, also accept plaintext messages (compatibility while migrating; replayable)"});
  spec.push_back({"wechat.timestamp_window_s", Type::kInteger, false, "serve: messages whose timestamp is further from now are refused"});
  spec.push_back({"wechat.reply_reference", Type::kBoolean, false, "serve: answer a text report with its public reference (受理编号) as a passive reply"});
  spec.push_back({"wechat.nonce_memory", Type::kInteger, false, "serve: (timestamp, nonce) pairs remembered to refuse replays"});
  return spec;
}

/// A secret from `key` or, if set, from the file `key_file` (trailing whitespace dropped).
std::string secret(const gridhub::config::Config& cfg, const std::string& key) {
  const std::string file_key = key + "_file";
  if (cfg.has(key) && cfg.has(file_key)) {
    throw gridhub::config::ConfigError(cfg.where(file_key) + ": set " + key + " or " + file_key + ", not both");
  }
  if (!cfg.has(file_key)) return cfg.get_string(key);
  const auto path = cfg.get_path(file_key);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw gridhub::config::ConfigError(cfg.where(file_key) + ": cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  return v;
}

struct ServeConfig {
  gridhub::adapter::HttpServerOptions http;
  gridhub::wechat::CallbackOptions callback;
  std::string token;
  std::string aes_key;
  std::string receive_id;
};

ServeConfig serve_config(const gridhub::config::Config& cfg) {
  ServeConfig s;
  s.http.listen = cfg.get_string("wechat.listen", "127.0.0.1:8080");
  try {
    (void)gridhub::adapter::HttpServer::parse_listen(s.http.listen);
  } catch (const std::invalid_argument& e) {
    throw gridhub::config::ConfigError(cfg.where("wechat.listen") + ": " + e.what());
  }
  s.http.body_limit = static_cast<std::size_t>(cfg.get_int("wechat.body_limit_bytes", 256 * 1024, 1024, 64 << 20));
  s.callback.path = cfg.get_string("wechat.path", "/wechat");
  if (!s.callback.path.starts_with("/")) throw gridhub::config::ConfigError(cfg.where("wechat.path") + ": must start with /");
  s.token = secret(cfg, "wechat.token");
  if (s.token.empty()) {
    throw gridhub::config::ConfigError(cfg.source_name() + ": serve needs wechat.token (or wechat.token_file)");
  }
  s.aes_key = secret(cfg, "wechat.encoding_aes_key");
  if (cfg.has("wechat.appid") && cfg.has("wechat.corpid")) {
    throw gridhub::config::ConfigError(cfg.where("wechat.corpid") + ": set wechat.appid (Official Account) or wechat.corpid (WeCom), not both");
  }
  s.callback.allow_plaintext = cfg.get_bool("wechat.allow_plaintext", false);
  s.callback.timestamp_window_s = cfg.get_int("wechat.timestamp_window_s", 300, 1, 86400);
  s.callback.nonce_memory = static_cast<std::size_t>(cfg.get_int("wechat.nonce_memory", 100000, 1, 10000000));
  s.callback.reply_reference = cfg.get_bool("wechat.reply_reference", false);
  s.receive_id = cfg.has("wechat.corpid") ? cfg.get_string("wechat.corpid") : cfg.get_string("wechat.appid");
  if (!s.aes_key.empty() && s.receive_id.empty()) {
    throw gridhub::config::ConfigError(cfg.source_name() + ": encrypted mode (wechat.encoding_aes_key) needs wechat.appid or wechat.corpid");
  }
  return s;
}

int serve(const gridhub::adapter::AdapterConfig& acfg, const ServeConfig& scfg) {
  namespace ad = gridhub::adapter;
  auto crypto = gridhub::wechat::CallbackCrypto::create(scfg.token, scfg.aes_key, scfg.receive_id);
  if (!crypto) {
    std::cerr << "gridhub-wechat: [wechat]: " << crypto.error().detail << "\n";
    return 2;
  }
  return ad::run_http_adapter(acfg, scfg.http, scfg.callback.utc_offset_minutes, [&](ad::HttpAdapterParts& p, std::string& describe) {
    auto endpoint = std::make_shared<gridhub::wechat::CallbackEndpoint>(std::move(crypto.value()), p.intake, p.counters,
                                                                        p.clock, scfg.callback, &p.lookup);
    endpoint->install(p.server);
    describe = fmt::format("callback path {}, {} mode, timestamp window {} s", scfg.callback.path,
                           scfg.aes_key.empty()               ? "plaintext"
                           : scfg.callback.allow_plaintext    ? "encrypted+plaintext (wechat.allow_plaintext)"
                                                              : "encrypted",
                           scfg.callback.timestamp_window_s);
    return std::shared_ptr<void>(endpoint);
  }, ad::SenderRetries::kCannotRetry);   // WeChat sends each message until answered, never after an error
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhub-wechat: WeChat chat exports and Official Account messages -> gridhub"};
  std::string config_file;
  std::vector<std::string> files;
  bool json = false;
  app.add_option("-c,--config", config_file, "adapter configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("files", files, "MemoTrace (.csv, .txt) and PyWxDump (.csv) exports and callback bodies (.xml); none: only deliver the outbox");
  app.add_flag("--json-summary", json, "print the summary as one JSON line");
  auto* serve_cmd = app.add_subcommand("serve", "serve the Official Account / WeCom callback URL over HTTP ([wechat] listen, token, ...)");
  CLI11_PARSE(app, argc, argv);

  gridhub::adapter::AdapterConfig acfg;
  int offset = 480;
  std::int64_t window_s = 600;
  ServeConfig scfg;
  try {
    auto cfg = gridhub::config::Config::load_file(config_file, wechat_spec());
    acfg = gridhub::adapter::adapter_config_from(cfg);
    gridhub::logging::setup("gridhub-wechat", acfg.log_level, acfg.log_format);
    offset = static_cast<int>(cfg.get_int("wechat.utc_offset_minutes", 480, -720, 840));
    window_s = cfg.get_int("wechat.location_window_s", 600, 0, 86400);
    if (*serve_cmd) {
      scfg = serve_config(cfg);
      scfg.callback.utc_offset_minutes = offset;
      scfg.callback.location_window_us = window_s * 1000000;
    }
  } catch (const std::exception& e) {
    std::cerr << "gridhub-wechat: " << e.what() << "\n";
    return 2;
  }
  if (*serve_cmd) {
    if (!files.empty()) {
      std::cerr << "gridhub-wechat: serve takes no files\n";
      return 2;
    }
    return serve(acfg, scfg);
  }

  const auto& stop = gridhub::adapter::install_stop_signals();
  gridhub::SystemClock clock;
  gridhub::adapter::FileImporter importer(acfg, clock, offset);
  if (!importer.open()) return 1;

  // Parse everything first: a location and its text may sit in different callback files.
  std::vector<std::pair<std::string, gridhub::Result<std::vector<v1::Event>>>> parsed;
  for (const auto& file : files) {
    auto bytes = gridhub::adapter::read_whole_file(file);
    if (!bytes) {
      parsed.emplace_back(file, bytes.error());
      continue;
    }
    std::vector<v1::Event> events;
    if (ends_with(file, ".xml")) {
      gridhub::wechat::OaOptions oo;
      oo.adapter_id = acfg.id;
      oo.utc_offset_minutes = offset;
      events.push_back(std::move(gridhub::wechat::parse_oa_message(bytes.value(), file, oo).event));
    } else {
      gridhub::wechat::ExportOptions eo;
      eo.adapter_id = acfg.id;
      eo.utc_offset_minutes = offset;
      gridhub::wechat::ExportOutput out;
      // The header row says which exporter wrote a CSV (both use .csv); TXT has no header.
      const auto format = gridhub::wechat::detect_chat_csv_format(bytes.value());
      if (format == gridhub::wechat::ChatCsvFormat::kUnknown && ends_with(file, ".csv")) {
        parsed.emplace_back(file, gridhub::Error(gridhub::Errc::missing_field,
                                                 file + ": the header row is neither MemoTrace's (localId,TalkerId,Type,...) "
                                                        "nor PyWxDump's (id,MsgSvrID,type_name,...)"));
        continue;
      }
      if (format != gridhub::wechat::ChatCsvFormat::kUnknown) {
        auto r = format == gridhub::wechat::ChatCsvFormat::kPyWxDump
                     ? gridhub::wechat::parse_pywxdump_csv(bytes.value(), file, eo)
                     : gridhub::wechat::parse_memotrace_csv(bytes.value(), file, eo);
        if (!r) {
          parsed.emplace_back(file, r.error());
          continue;
        }
        out = std::move(r.value());
      } else {
        out = gridhub::wechat::parse_memotrace_txt(bytes.value(), file, eo);
      }
      for (auto& k : out.events) events.push_back(std::move(k.event));
    }
    parsed.emplace_back(file, std::move(events));
  }
  // Pair locations with texts in the order things happened, across all files.
  std::vector<v1::Event*> timeline;
  for (auto& [file, r] : parsed) {
    if (!r) continue;
    for (auto& ev : r.value()) timeline.push_back(&ev);
  }
  std::stable_sort(timeline.begin(), timeline.end(), [](const v1::Event* a, const v1::Event* b) {
    return a->fields().reported_at().unix_micros() < b->fields().reported_at().unix_micros();
  });
  gridhub::wechat::LocationPairer pairer(window_s * 1000000);
  for (auto* ev : timeline) pairer.feed(*ev);

  for (auto& [file, r] : parsed) importer.add(file, std::move(r));
  return importer.finish(json, stop);
}
