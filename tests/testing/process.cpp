#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace gridhub::testing {

Process Process::spawn(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    int err = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  return Process(pid, fds[0]);
}

Process::Process(Process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), out_fd_(std::exchange(o.out_fd_, -1)), buffer_(std::move(o.buffer_)), status_(o.status_) {}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    this->~Process();
    new (this) Process(std::move(o));
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      close(out_fd_);
      out_fd_ = -1;
      if (!buffer_.empty()) {
        std::string line = std::move(buffer_);
        buffer_.clear();
        return line;
      }
      return std::nullopt;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string Process::read_all() {
  std::string out = std::move(buffer_);
  buffer_.clear();
  char buf[65536];
  while (out_fd_ >= 0) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      close(out_fd_);
      out_fd_ = -1;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

int Process::wait() {
  if (!status_) {
    int st = 0;
    waitpid(pid_, &st, 0);
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  return *status_;
}

bool Process::running() {
  if (status_) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file) {
  auto p = Process::spawn(argv, stderr_file);
  std::string out = p.read_all();
  int rc = p.wait();
  return {rc, out};
}

std::string bin(const std::string& name) { return std::string(GRIDHUB_BIN_DIR) + "/" + name; }
std::string source_path(const std::string& rel) { return std::string(GRIDHUB_SOURCE_DIR) + "/" + rel; }

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "gridhub-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info != nullptr && info->result() != nullptr && info->result()->Failed()) {
    std::fprintf(stderr, "test failed: kept %s for diagnosis\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

HubProcess::HubProcess(const std::filesystem::path& dir, std::string ingest_extra, std::string tail_toml) : dir_(dir) {
  std::ofstream cfg(config());
  // ipc endpoints keep their address across restarts (crash tests); tcp port 0 checks the tcp path.
  cfg << "[hub]\nlog_db = \"gridhub.db\"\nlog_level = \"info\"\n\n"
      << "[ingest]\nendpoints = [\"ipc://ingest.sock\", \"tcp://127.0.0.1:*\"]\n"
      << ingest_extra << "\n\n"
      << "[stream]\nendpoints = [\"ipc://stream.sock\"]\nsession_timeout_ms = 5000\n"
      << tail_toml << "\n";
}

void HubProcess::start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {bin("gridhub"), "-c", config().string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  proc_.emplace(Process::spawn(argv, stderr_file()));
  auto line = proc_->read_line(std::chrono::seconds(30));
  if (line && line->rfind("ADMIN http=", 0) == 0) {   // a hub with [admin] names its endpoint first
    admin_ = line->substr(std::string("ADMIN http=").size());
    line = proc_->read_line(std::chrono::seconds(30));
  }
  if (!line || line->rfind("READY ", 0) != 0) {
    throw std::runtime_error("hub did not become ready; stderr: " + slurp(stderr_file()));
  }
  auto field = [&](const std::string& key) {
    auto pos = line->find(key + "=");
    auto end = line->find(' ', pos);
    std::string v = line->substr(pos + key.size() + 1, end == std::string::npos ? std::string::npos : end - pos - key.size() - 1);
    return v.substr(0, v.find(','));   // the first endpoint
  };
  ingest_ = field("ingest");
  stream_ = field("stream");
}

void HubProcess::kill9() {
  proc_->signal(SIGKILL);
  proc_->wait();
}

int HubProcess::terminate() {
  proc_->signal(SIGTERM);
  return proc_->wait();
}

std::filesystem::path write_hotline_config(const std::filesystem::path& dir, const std::string& name,
                                           const std::string& hub_endpoint, const std::string& extra) {
  auto file = dir / (name + ".toml");
  std::ofstream cfg(file);
  cfg << "[adapter]\nid = \"" << name << "\"\nhub = \"" << hub_endpoint << "\"\noutbox = \"" << name
      << "-outbox.db\"\n" << extra << "\n";
  return file;
}

}  // namespace gridhub::testing
