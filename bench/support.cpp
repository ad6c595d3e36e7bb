#include "bench.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

extern char** environ;

namespace gridhub::bench {

Sizes Sizes::quick() {
  Sizes s;
  s.reps = 1;
  s.zmq_messages = 20'000;
  s.sqlite_seconds = 0.2;
  s.nats_messages = 5'000;
  s.hub_events = 20'000;
  s.latency_seconds = 1.0;
  s.latency_warmup_seconds = 0.2;
  s.memory_events = 50'000;
  s.pipeline_seconds = 0.3;
  s.importer_records = 5'000;
  return s;
}

// ---- figures ----

void Figures::add(const std::string& name, const std::string& unit, double value) {
  auto [it, inserted] = series_.try_emplace(name, Series{unit, {}});
  if (inserted) order_.push_back(name);
  it->second.values.push_back(value);
}

std::optional<double> Figures::median(const std::string& name) const {
  auto it = series_.find(name);
  if (it == series_.end() || it->second.values.empty()) return std::nullopt;
  return median_of(it->second.values);
}

void Figures::print() const {
  std::cout << fmt::format("| {:<34} | {:>8} | {:>8} | {:>8} | {:<8} | {} |\n", "metric", "median", "min", "max", "unit",
                           "n");
  std::cout << fmt::format("|{:-<36}|{:->10}|{:->10}|{:->10}|{:-<10}|---|\n", "", ":", ":", ":", "");
  for (const auto& name : order_) {
    const auto& s = series_.at(name);
    const auto [lo, hi] = std::minmax_element(s.values.begin(), s.values.end());
    std::cout << fmt::format("| {:<34} | {:>8} | {:>8} | {:>8} | {:<8} | {} |\n", name, si(median_of(s.values)),
                             si(*lo), si(*hi), s.unit, s.values.size());
  }
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile_of(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

std::string si(double v) {
  const char* suffix = "";
  double x = v;
  if (std::fabs(v) >= 1e6) {
    x = v / 1e6;
    suffix = "M";
  } else if (std::fabs(v) >= 1e3) {
    x = v / 1e3;
    suffix = "k";
  }
  const double ax = std::fabs(x);
  const int decimals = ax >= 100 ? 0 : ax >= 10 ? 1 : ax >= 1 ? 2 : 3;
  return fmt::format("{:.{}f}{}", x, decimals, suffix);
}

// ---- processes ----

namespace {

std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes = 2000) {
  std::ifstream in(file, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the log is best effort; the measurement does not depend on it
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::filesystem::path& log_file, Output output)
    : name_(std::filesystem::path(argv.at(0)).filename().string()), log_file_(log_file) {
  log_fd_ = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd_ < 0) throw BenchError(fmt::format("{}: cannot open: {}", log_file.string(), std::strerror(errno)));
  int fds[2] = {-1, -1};
  if (output != Output::kToLog && ::pipe2(fds, O_CLOEXEC) != 0) {
    throw BenchError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, output == Output::kStdoutPiped ? fds[1] : log_fd_, 1);
  posix_spawn_file_actions_adddup2(&fa, output == Output::kStderrPiped ? fds[1] : log_fd_, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (fds[1] >= 0) ::close(fds[1]);
  pipe_fd_ = fds[0];
  if (rc != 0) {
    pid_ = -1;
    throw BenchError(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  }
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (drain_.joinable()) drain_.join();
  if (pipe_fd_ >= 0) ::close(pipe_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

std::string Child::wait_for_line(const std::function<bool(const std::string&)>& pred,
                                 std::chrono::milliseconds timeout) {
  if (pipe_fd_ < 0) throw BenchError(name_ + ": output is not piped");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto nl = buffered_.find('\n'); nl != std::string::npos; nl = buffered_.find('\n')) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      write_all(log_fd_, line.data(), line.size());
      write_all(log_fd_, "\n", 1);
      if (pred(line)) {
        start_drain();
        return line;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw BenchError(fmt::format("{} did not become ready within {} ms; its log {}:\n{}", name_, timeout.count(),
                                   log_file_.string(), tail_of(log_file_)));
    }
    pollfd p{pipe_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t r = ::read(pipe_fd_, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      write_all(log_fd_, buffered_.data(), buffered_.size());
      const int code = wait();
      throw BenchError(fmt::format("{} exited with {} before it was ready; its log {}:\n{}", name_, code,
                                   log_file_.string(), tail_of(log_file_)));
    }
    buffered_.append(buf, static_cast<std::size_t>(r));
  }
}

void Child::start_drain() {
  drain_ = std::thread([fd = pipe_fd_, log = log_fd_, rest = std::move(buffered_)] {
    write_all(log, rest.data(), rest.size());
    char buf[4096];
    for (;;) {
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;  // the child exited
      write_all(log, buf, static_cast<std::size_t>(r));
    }
  });
  buffered_.clear();
}

bool Child::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Child::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  return exit_code_of(status);
}

int Child::terminate(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  return wait();
}

// ---- files, ports, /proc ----

std::filesystem::path make_run_dir(const std::filesystem::path& parent, const std::string& what) {
  std::string tmpl = (parent / (what + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw BenchError(fmt::format("cannot create a folder in {}: {}", parent.string(), std::strerror(errno)));
  }
  return tmpl;
}

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw BenchError(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(fd);
    throw BenchError(fmt::format("cannot find a free port: {}", std::strerror(e)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

Memory read_memory(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  if (!in) throw BenchError(fmt::format("cannot read /proc/{}/status", pid));
  Memory m;
  std::string line;
  while (std::getline(in, line)) {
    auto kb = [&](std::string_view key, double& out) {
      if (line.rfind(key, 0) == 0) out = std::strtod(line.c_str() + key.size(), nullptr) / 1024.0;
    };
    kb("VmRSS:", m.rss_mb);
    kb("VmHWM:", m.hwm_mb);
  }
  return m;
}

std::vector<ThreadCpu> read_thread_cpu(pid_t pid) {
  std::vector<ThreadCpu> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // "tid (comm) state ppid ...": comm may hold spaces, so fields are counted after the last ')'.
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    ThreadCpu t;
    t.tid = static_cast<pid_t>(std::strtol(stat.c_str(), nullptr, 10));
    t.name = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // field 3 is the state; 14 utime, 15 stime
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    t.seconds = static_cast<double>(utime + stime) / tick;
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const ThreadCpu& a, const ThreadCpu& b) { return a.tid < b.tid; });
  return out;
}

std::filesystem::path find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (std::size_t start = 0; start <= p.size();) {
      const std::size_t colon = std::min(p.find(':', start), p.size());
      if (colon > start) dirs.push_back(p.substr(start, colon - start));
      start = colon + 1;
    }
  }
  dirs.emplace_back("/usr/sbin");
  dirs.emplace_back("/sbin");
  for (const auto& d : dirs) {
    std::filesystem::path candidate = std::filesystem::path(d) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace gridhub::bench
