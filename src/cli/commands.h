// The subcommands of the kubeharden CLI. Each registers its options on the CLI11 app and
// returns a runner that yields the process exit code (0 clean, 1 findings at or above
// --fail-on, 2 usage or configuration error, 3 input error; see README "Exit codes").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "audit/events.h"

namespace kh {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInput = 3;

extern const char* const kVersion;
// Where the check pages live (SARIF helpUri), unless --docs-url says otherwise.
constexpr const char* kDocsUrl = "https://github.com/kubeharden/kubeharden/blob/main/docs/checks/";

using Runner = std::function<int()>;

Runner addScanCommand(CLI::App& app);
Runner addDockerfileCommand(CLI::App& app);
Runner addClusterCommand(CLI::App& app);
Runner addChecksCommand(CLI::App& app);
Runner addExplainCommand(CLI::App& app);
Runner addPssCommand(CLI::App& app);
Runner addNetpolCommand(CLI::App& app);
Runner addRbacCommand(CLI::App& app);
// The same subcommands over RBAC read from elsewhere (`cluster rbac`): `before` runs once the
// command line is parsed and may add input paths (and say the built-in roles are not wanted,
// the input having its own); a non-zero return is the exit code. `after` runs when done.
Runner addRbacCommand(CLI::App& app,
                      std::function<int(std::vector<std::string>& paths, bool& no_defaults)> before,
                      std::function<void()> after);
Runner addReviewCommand(CLI::App& app);
Runner addServeCommand(CLI::App& app);
Runner addWebhookConfigCommand(CLI::App& app);
Runner addImageCommand(CLI::App& app);
Runner addSigstoreCommand(CLI::App& app);
Runner addAuditCommand(CLI::App& app);
// `audit detect`: the scan pipeline over audit logs (in scan_command.cpp).
Runner addAuditDetectCommand(CLI::App& app);
// The audit log reader's problems on stderr ("kubeharden audit COMMAND: file: why", the first
// malformed lines): kExitInput when a log could not be read, else kExitClean.
int reportReadProblems(const audit::ReadStats& st, std::string_view command);
// `audit rbac`: least-privilege RBAC from audit logs (audit_rbac_command.cpp).
Runner addAuditRbacCommand(CLI::App& app);
// An RFC 3339 time (the audit log's) or a date, as microseconds since the epoch; nullopt when
// it is neither (--since, --until).
std::optional<int64_t> parseTime(std::string_view s);
// `image verify`, registered on the image command; sets *which to id when chosen.
Runner addImageVerifyCommand(CLI::App& image, std::shared_ptr<int> which, int id);

}  // namespace kh
