#pragma once
// Binding an httplib server the way `serve` and `route` both need: port 0 picks a free port, a
// refused address is an anychip::Error naming it, and the listen backlog is raised.
#include <string>

namespace httplib {
class Server;
}

namespace anychip::server {

// Returns the bound port. Throws anychip::Error.
int bind_server(httplib::Server& http, const std::string& host, int port);

}  // namespace anychip::server
