#pragma once
// A three-node NATS JetStream cluster on loopback for tests (scripts/nats-cluster.sh): started in a temp
// folder on free ports, stopped at destruction.

#include <filesystem>
#include <optional>
#include <string>

namespace gridhub::testing {

class NatsCluster {
 public:
  /// Why a cluster cannot run here (nats-server is not installed); nullopt: it can. Tests GTEST_SKIP
  /// with this message.
  static std::optional<std::string> unavailable();

  /// Starts the cluster under `dir` and waits until it is ready (metadata leader elected).
  explicit NatsCluster(const std::filesystem::path& dir);
  ~NatsCluster();   // stops every node
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  /// The client URLs, comma separated ([log] servers).
  const std::string& urls() const { return urls_; }
  /// SIGKILLs node `i` (1..3) and waits until it is gone.
  void kill9(int i);
  /// Starts the nodes that are down again (on their ports and stores).
  void restart_down_nodes();

 private:
  std::filesystem::path dir_;
  std::string urls_;
};

}  // namespace gridhub::testing
