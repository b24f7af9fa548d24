// `kubeharden netpol`: NetworkPolicy analysis from manifests. `connlist` lists every allowed
// connection; `eval` answers one question (is src -> dst:port allowed?) and explains it.
#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <charconv>
#include <cstdio>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/output.h"
#include "load/loader.h"
#include "netpol/analyzer.h"
#include "report/json_writer.h"
#include "report/report.h"
#include "scan/scan.h"

namespace kh {
namespace {

constexpr std::string_view kWorkloads = "workloads (pods or objects with a pod template)";

using netpol::Analyzer;
using netpol::ConnSet;
using netpol::Endpoint;

void printWarnings(const netpol::Model& m) {
  for (const std::string& w : m.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string dotId(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\\\"") : std::string(1, c);
  return out + "\"";
}

std::string renderConnlist(const std::vector<netpol::Connection>& conns, const netpol::Model& m,
                           const std::string& format) {
  std::string out;
  if (format == "txt") {
    for (const auto& c : conns)
      fmt::format_to(std::back_inserter(out), "{} => {} : {}\n", c.src, c.dst, c.conns.toString());
  } else if (format == "csv") {
    out = "src,dst,conn\n";
    for (const auto& c : conns)
      fmt::format_to(std::back_inserter(out), "{},{},{}\n", csvField(c.src), csvField(c.dst),
                     csvField(c.conns.toString()));
  } else if (format == "md") {
    out = "| src | dst | conn |\n|-----|-----|------|\n";
    for (const auto& c : conns)
      fmt::format_to(std::back_inserter(out), "| {} | {} | {} |\n", c.src, c.dst,
                     c.conns.toString());
  } else if (format == "json") {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    json::str(w, "schema", "kubeharden/netpol-connlist/v1");
    json::key(w, "connections");
    w.StartArray();
    for (const auto& c : conns) {
      w.StartObject();
      json::str(w, "src", c.src);
      json::str(w, "dst", c.dst);
      json::str(w, "conn", c.conns.toString());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    out = std::string(buf.GetString(), buf.GetSize()) + "\n";
  } else {  // dot: workloads grouped by namespace, external ranges as their own nodes
    out = "digraph {\n  rankdir=LR;\n  node [shape=box];\n";
    std::map<std::string, std::vector<std::string>> by_ns;
    for (const auto& w : m.workloads) by_ns[w.ns].push_back(w.display);
    size_t i = 0;
    for (const auto& [ns, ws] : by_ns) {
      fmt::format_to(std::back_inserter(out), "  subgraph cluster_{} {{\n    label={};\n", i++,
                     dotId(ns));
      for (const auto& d : ws)
        fmt::format_to(std::back_inserter(out), "    {} [label={}];\n", dotId(d),
                       dotId(d.substr(d.find('/') + 1)));
      out += "  }\n";
    }
    std::set<std::string> externals;
    for (const auto& c : conns) {
      for (const std::string* e : {&c.src, &c.dst})
        if (e->ends_with("[External]")) externals.insert(*e);
    }
    for (const auto& e : externals)
      fmt::format_to(std::back_inserter(out), "  {} [shape=ellipse, color=red];\n", dotId(e));
    for (const auto& c : conns)
      fmt::format_to(std::back_inserter(out), "  {} -> {} [label={}];\n", dotId(c.src),
                     dotId(c.dst), dotId(c.conns.toString()));
    out += "}\n";
  }
  return out;
}

// A workload reference or an IP address.
std::optional<Endpoint> resolve(const netpol::Model& m, const std::string& ref, std::string& err) {
  if (const netpol::Workload* w = m.findWorkload(ref))
    return Endpoint{static_cast<size_t>(w - m.workloads.data()), {}};
  if (auto ip = netpol::parseCidr(ref); ip && ref.find('/') == std::string::npos)
    return Endpoint{std::nullopt, *ip};
  err = fmt::format(
      "'{}' is neither a workload in the input (NS/NAME or NS/NAME[Kind]) nor an IP address", ref);
  return std::nullopt;
}

std::string endpointName(const netpol::Model& m, const Endpoint& e) {
  return e.workload ? m.workloads[*e.workload].display
                    : netpol::formatAddress(e.ip.v6, e.ip.lo) + "[External]";
}

std::string explainSide(std::string_view what, const netpol::SideExplanation& s, bool external) {
  std::string out;
  if (external)
    return fmt::format("  {}: not evaluated (an external address has no policy)\n", what);
  if (!s.isolated)
    return fmt::format("  {}: allowed: no NetworkPolicy selects the pod for this direction\n",
                       what);
  std::vector<std::string> names;
  for (const netpol::Policy* p : s.policies) names.push_back(p->display());
  fmt::format_to(std::back_inserter(out), "  {}: isolated by {}\n", what, fmt::join(names, ", "));
  if (s.allows.empty()) out += "    no rule of these policies admits this peer\n";
  for (const auto& a : s.allows)
    fmt::format_to(std::back_inserter(out), "    rule {} of {} allows {}\n", a.rule,
                   a.policy->display(), a.conns.toString());
  return out;
}

struct EvalArgs {
  std::vector<std::string> paths;
  std::string src, dst, port;
};

int runEval(const EvalArgs& a) {
  uint16_t port = 0;
  netpol::Protocol proto = netpol::Protocol::kTCP;
  {
    std::string_view p = a.port;
    if (size_t slash = p.find('/'); slash != std::string_view::npos) {
      auto pr = netpol::parseProtocol(p.substr(slash + 1));
      if (!pr) {
        std::fprintf(stderr, "kubeharden netpol eval: --port protocol must be TCP, UDP or SCTP\n");
        return kExitUsage;
      }
      proto = *pr;
      p = p.substr(0, slash);
    }
    int n = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (ec != std::errc() || ptr != p.data() + p.size() || n < 1 || n > 65535) {
      std::fprintf(
          stderr,
          "kubeharden netpol eval: --port must be 1-65535, optionally /TCP, /UDP or /SCTP\n");
      return kExitUsage;
    }
    port = static_cast<uint16_t>(n);
  }
  LoadedInputs in = loadInputs(a.paths, "netpol");
  if (in.error) return in.error;
  netpol::Model m = netpol::buildModel(in.objects);
  printWarnings(m);
  if (m.workloads.empty()) return nothingToJudge("netpol eval", kWorkloads);
  std::string err;
  auto src = resolve(m, a.src, err);
  auto dst = src ? resolve(m, a.dst, err) : std::nullopt;
  if (!src || !dst) {
    std::fprintf(stderr, "kubeharden netpol eval: %s\n", err.c_str());
    return kExitUsage;
  }
  if (!src->workload && !dst->workload) {
    std::fprintf(stderr,
                 "kubeharden netpol eval: at least one of --src and --dst must be a workload\n");
    return kExitUsage;
  }
  Analyzer an(m);
  auto eg = an.egress(*src, *dst);
  auto ig = an.ingress(*src, *dst);
  bool ok = eg.allowed.allows(proto, port) && ig.allowed.allows(proto, port);
  std::string out =
      fmt::format("{} => {} : {} {}: {}\n", endpointName(m, *src), endpointName(m, *dst),
                  netpol::protocolName(proto), port, ok ? "allowed" : "denied");
  out += explainSide("egress of the source", eg, !src->workload);
  out += explainSide("ingress of the destination", ig, !dst->workload);
  (void)writeOutput("", out);
  return ok ? kExitClean : kExitFindings;
}

struct ConnlistArgs {
  std::vector<std::string> paths;
  std::string format = "txt";
};

int runConnlist(const ConnlistArgs& a) {
  static const std::set<std::string> kFormats = {"txt", "json", "csv", "md", "dot"};
  if (!kFormats.count(a.format)) {
    std::fprintf(
        stderr,
        "kubeharden netpol connlist: unknown format '%s' (expected txt, json, csv, md or dot)\n",
        a.format.c_str());
    return kExitUsage;
  }
  LoadedInputs in = loadInputs(a.paths, "netpol");
  if (in.error == kExitInput && in.objects.empty()) return in.error;
  netpol::Model m = netpol::buildModel(in.objects);
  printWarnings(m);
  if (m.workloads.empty()) return nothingToJudge("netpol connlist", kWorkloads);
  Analyzer an(m);
  (void)writeOutput("", renderConnlist(netpol::connectionList(an), m, a.format));
  return in.error;
}

struct LintArgs {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string fail_on = "low";
};

// The network-* checks of `scan`, all of them (the opt-in one too), over the same pipeline.
int runLint(const LintArgs& a) {
  if (a.format != "text" && a.format != "json") {
    std::fprintf(stderr, "kubeharden netpol lint: unknown format '%s' (expected text or json)\n",
                 a.format.c_str());
    return kExitUsage;
  }
  std::optional<Severity> fail_on;
  if (a.fail_on != "none") {
    fail_on = parseSeverity(a.fail_on);
    if (!fail_on) {
      std::fprintf(stderr, "kubeharden netpol lint: --fail-on: unknown severity '%s'\n",
                   a.fail_on.c_str());
      return kExitUsage;
    }
  }
  ScanOptions opts;
  opts.inputs = a.paths.empty() ? std::vector<std::string>{"."} : a.paths;
  opts.dockerfiles = false;
  for (const auto& c : makeCatalogue()) {
    std::string id(c->meta().id);
    if (id.starts_with("network-"))
      opts.config.enabled.insert(id);
    else
      opts.config.disabled.insert(id);
  }
  auto result = runScan(std::move(opts));
  if (!result) {
    std::fprintf(stderr, "kubeharden netpol lint: %s\n", result.error().describe().c_str());
    return kExitInput;
  }
  ScanResult& r = result.value();
  ReportContext ctx{r, kVersion, false, ""};
  (void)writeOutput("", a.format == "json" ? renderJson(ctx) : renderText(ctx));
  for (const Error& e : r.errors) std::fprintf(stderr, "error: %s\n", e.describe().c_str());
  if (r.objects == 0 || !r.errors.empty()) return kExitInput;
  bool judged = false;
  for (const auto& f : r.files)
    for (const Object& o : f->objects) judged = judged || !r.registry->applicable(o).empty();
  if (!judged)
    return nothingToJudge(
        "netpol lint",
        "objects the network checks apply to (workloads, Services, Ingresses, NetworkPolicies)");
  if (fail_on)
    for (const Finding& f : r.findings)
      if (!f.suppressed && f.severity >= *fail_on) return kExitFindings;
  return kExitClean;
}

}  // namespace

Runner addNetpolCommand(CLI::App& app) {
  app.require_subcommand(1);
  auto c = std::make_shared<ConnlistArgs>();
  CLI::App* connlist = app.add_subcommand(
      "connlist", "List every allowed connection between workloads and external ranges");
  connlist->add_option("paths", c->paths, "Files, directories or - for stdin")
      ->type_name("PATH...");
  connlist->add_option("-f,--format", c->format, "txt, json, csv, md or dot")
      ->capture_default_str();
  auto e = std::make_shared<EvalArgs>();
  CLI::App* eval =
      app.add_subcommand("eval", "Is a connection allowed, and which policies and rules decide it");
  eval->add_option("paths", e->paths, "Files, directories or - for stdin")->type_name("PATH...");
  eval->add_option("--src", e->src, "Source: NS/NAME, NS/NAME[Kind] or an IP address")->required();
  eval->add_option("--dst", e->dst, "Destination: NS/NAME, NS/NAME[Kind] or an IP address")
      ->required();
  eval->add_option("--port", e->port, "Destination port, e.g. 443 or 53/UDP")->required();
  auto l = std::make_shared<LintArgs>();
  CLI::App* lint = app.add_subcommand(
      "lint", "NetworkPolicy lints: default deny, isolation, dangling selectors, DNS, allow-all");
  lint->add_option("paths", l->paths, "Files, directories or - for stdin")->type_name("PATH...");
  lint->add_option("-f,--format", l->format, "text or json")->capture_default_str();
  lint->add_option("--fail-on", l->fail_on,
                   "Exit 1 at or above: critical, high, medium, low, info, none")
      ->capture_default_str();
  return [c, e, l, connlist, eval, lint] {
    if (connlist->parsed()) return runConnlist(*c);
    if (eval->parsed()) return runEval(*e);
    if (lint->parsed()) return runLint(*l);
    return kExitUsage;
  };
}

}  // namespace kh
