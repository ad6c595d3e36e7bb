#include "nats_cluster.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

#include "process.hpp"

namespace gridhub::testing {
namespace {

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// A base port whose client ports (base..base+2) and route ports (base+100..base+102) are free now.
int free_base_port() {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 59000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(rng);
    bool ok = true;
    for (int i = 0; i < 3 && ok; ++i) ok = port_free(base + i) && port_free(base + 100 + i);
    if (ok) return base;
  }
  throw std::runtime_error("no free ports for a NATS cluster");
}

std::string script() { return source_path("scripts/nats-cluster.sh"); }

}  // namespace

std::optional<std::string> NatsCluster::unavailable() {
  if (::access("/usr/sbin/nats-server", X_OK) == 0 || ::access("/usr/bin/nats-server", X_OK) == 0) return std::nullopt;
  auto [code, out] = run({"/bin/sh", "-c", "command -v nats-server"}, "/dev/null");
  if (code == 0) return std::nullopt;
  return std::string("nats-server is not installed (apt-get install nats-server): the JetStream log tests need it");
}

NatsCluster::NatsCluster(const std::filesystem::path& dir) : dir_(dir) {
  // A port taken between the probe and the nodes' bind makes a node exit: the script says so, and
  // another base is tried.
  for (int attempt = 0; attempt < 3 && urls_.empty(); ++attempt) {
    auto [code, out] = run({script(), "start", dir_.string(), std::to_string(free_base_port())}, dir_ / "cluster.stderr");
    if (code == 0) {
      while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
      urls_ = out;
    }
  }
  if (urls_.empty()) throw std::runtime_error("the NATS cluster did not start; see " + (dir_ / "cluster.stderr").string());
}

NatsCluster::~NatsCluster() { run({script(), "stop", dir_.string()}, dir_ / "cluster.stderr"); }

void NatsCluster::kill9(int i) {
  std::ifstream in(dir_ / ("n" + std::to_string(i)) / "pid");
  pid_t pid = 0;
  in >> pid;
  if (pid <= 0) throw std::runtime_error("no pid for NATS node " + std::to_string(i));
  ::kill(pid, SIGKILL);
  // The node is the script's child, not ours: wait until the pid is gone (reaped by init).
  while (::kill(pid, 0) == 0) ::usleep(10'000);
}

void NatsCluster::restart_down_nodes() {
  auto [code, out] = run({script(), "start", dir_.string()}, dir_ / "cluster.stderr");
  if (code != 0) throw std::runtime_error("restarting NATS nodes failed; see " + (dir_ / "cluster.stderr").string());
}

}  // namespace gridhub::testing
