#pragma once
// Child processes for integration tests: spawn a real gridhub binary, read its stdout line by line
// (waiting on the pipe, never sleeping), signal it, reap it.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gridhub::testing {

class Process {
 public:
  /// Starts argv[0] with stdout on a pipe and stderr appended to `stderr_file` (kept for diagnosis).
  static Process spawn(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();   // SIGKILLs and reaps a child still running

  /// The next stdout line, waiting up to `timeout`; nullopt on EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Everything left on stdout until EOF.
  std::string read_all();
  void signal(int sig);
  /// Waits for exit; returns the exit code, or 128 + signal number.
  int wait();
  bool running();
  pid_t pid() const { return pid_; }

 private:
  Process(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

/// Runs to completion; returns {exit code, stdout}.
std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file);

std::string bin(const std::string& name);          // path of an executable in build/bin
std::string source_path(const std::string& rel);   // path inside the source tree
std::string slurp(const std::filesystem::path& file);

/// A fresh directory under the system temp dir, removed at destruction unless the test failed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// A running hub on endpoints inside a temp dir, with its config written there.
class HubProcess {
 public:
  /// extra_toml is appended to [ingest] (e.g. "max_frame_bytes = 4096").
  /// `tail_toml` is appended at the end (e.g. a [pipeline] section).
  HubProcess(const std::filesystem::path& dir, std::string ingest_extra = {}, std::string tail_toml = {});
  void start(const std::vector<std::string>& extra_args = {});   // spawns and waits for the READY line
  void kill9();          // SIGKILL and reap
  int terminate();       // SIGTERM, returns the exit code
  const std::string& ingest() const { return ingest_; }
  const std::string& stream() const { return stream_; }
  /// "127.0.0.1:PORT" of the [admin] endpoint (its ADMIN line before READY); empty without [admin].
  const std::string& admin() const { return admin_; }
  std::filesystem::path db() const { return dir_ / "gridhub.db"; }
  std::filesystem::path config() const { return dir_ / "hub.toml"; }
  std::filesystem::path stderr_file() const { return dir_ / "hub.stderr"; }
  Process& process() { return *proc_; }

 private:
  std::filesystem::path dir_;
  std::optional<Process> proc_;
  std::string ingest_;
  std::string stream_;
  std::string admin_;
};

/// Writes an adapter config for gridhub-hotline pointing at `hub_endpoint`.
std::filesystem::path write_hotline_config(const std::filesystem::path& dir, const std::string& name,
                                           const std::string& hub_endpoint, const std::string& extra = {});

}  // namespace gridhub::testing
