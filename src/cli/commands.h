#pragma once
// Each subcommand adds itself to the app and returns the action to run when it is chosen.
#include <CLI/CLI.hpp>
#include <functional>

namespace anychip::cli {

using Action = std::function<int()>;

Action add_run_command(CLI::App& app);
Action add_info_command(CLI::App& app);
Action add_tokenize_command(CLI::App& app);
Action add_synth_command(CLI::App& app);
Action add_template_command(CLI::App& app);
Action add_bench_command(CLI::App& app);
Action add_serve_command(CLI::App& app);
Action add_loadgen_command(CLI::App& app);
Action add_route_command(CLI::App& app);

}  // namespace anychip::cli
