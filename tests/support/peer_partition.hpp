// Network partitions between the members of a test etcd cluster, without root: one TCP proxy per
// member sits in front of its raft peer port, and every member advertises the proxy's URL, so all
// peer traffic passes through the proxies.
//
// etcd's peers talk HTTP/1.1 (rafthttp). Every raft connection opens with a request whose head
// names the caller in `X-Server-From: <member id in hex>`: the long-lived stream GETs
// (/raft/stream/...) a member dials to receive messages, and the pipeline and snapshot POSTs it
// sends. A kept-alive connection always belongs to the process that opened it, so the first head
// identifies the caller for the connection's whole life. A proxy therefore reads that head,
// decides, and then relays bytes untouched in both directions.
//
// isolate(A) cuts A off from everyone: A's proxy refuses every connection, the other proxies
// refuse connections whose caller is A, and every relayed connection touching A is closed before
// isolate() returns. Requests that carry no X-Server-From (the leader's GET /version probes,
// /raft/probing) are only refused by an isolated member's own proxy; they carry no raft messages.
// heal() lifts every isolation; the members reconnect by themselves.
//
// One thread relays all connections (poll(2), non-blocking sockets); every public method may be
// called from any thread. The destructor stops the thread and closes every socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dcs::testing {

class PeerPartition {
 public:
  /// Opens one listening proxy per member on a free 127.0.0.1 port (kept until destruction) and
  /// starts the relay thread. Throws EtcdProcessError when a socket cannot be set up.
  explicit PeerPartition(std::size_t members);
  ~PeerPartition();
  PeerPartition(const PeerPartition&) = delete;
  PeerPartition& operator=(const PeerPartition&) = delete;

  std::size_t size() const noexcept;
  /// The port the member's proxy listens on; its URL is what the member advertises to its peers.
  int proxy_port(std::size_t member) const;
  std::string proxy_url(std::size_t member) const;

  /// Where the member's proxy forwards to: the member's real --listen-peer-urls port. Until it is
  /// set the proxy refuses connections.
  void set_target_port(std::size_t member, int port);
  /// The member's raft id, which its peers send as X-Server-From. A caller whose id is not
  /// registered counts as unknown (only an isolated callee refuses it).
  void set_member_id(std::size_t member, std::uint64_t id);

  /// Cuts `member` off from every other member (see above). Returns once every relayed connection
  /// touching it is closed. Several members may be isolated at once; each is cut from all others.
  void isolate(std::size_t member);
  /// Lifts every isolation; returns once new connections are decided accordingly.
  void heal();
  bool isolated(std::size_t member) const;

  /// Connections being relayed right now (both sides open).
  std::size_t relayed_connections() const;
  /// Connections refused or cut because of an isolation, since construction.
  std::size_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcs::testing
