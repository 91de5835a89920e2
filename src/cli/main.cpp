// anychip: one binary, many subcommands. Exit codes: 0 success, 1 runtime failure (bad file,
// unsupported model, I/O), 2 bad command line.
#include <cstdio>
#include <iostream>
#include <new>
#include <vector>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  CLI::App app{"anychip: run open-weight LLMs from GGUF files on any chip"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "anychip 0.1.0");
  std::vector<std::pair<CLI::App*, anychip::cli::Action>> commands;
  using namespace anychip::cli;
  for (auto add : {add_run_command, add_info_command, add_tokenize_command, add_synth_command, add_bench_command,
                    add_template_command, add_serve_command, add_loadgen_command, add_route_command}) {
    const size_t before = app.get_subcommands({}).size();
    Action action = add(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(action));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    for (auto& [sub, action] : commands) {
      if (sub->parsed()) return action();
    }
  } catch (const anychip::Error& e) {
    std::cout.flush();
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
