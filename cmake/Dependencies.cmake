# Every dependency is a Debian package; scripts/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
# libpqxx 6.4 (and libpq under it): the PostgreSQL store, broker/pg_store.h.
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)  # PQconninfoParse: a connection string checked before use
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # the broker's metrics endpoint
find_package(cppzmq REQUIRED)
find_package(Protobuf REQUIRED)
find_package(Threads REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
if(TEARLINE_BUILD_TESTS)
  find_package(Catch2 REQUIRED)
endif()
