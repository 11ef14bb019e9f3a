// Loading the config: the document skeleton, tasks, workflows and queues.
// The other sections live in config_sections.cpp.
// Long file: every field of tasks and workflows, each with its JSON path
// and its message.

#include "config/config.hpp"

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include <unistd.h>

#include "config/config_reader.hpp"
#include "model/json_guard.hpp"
#include "model/names.hpp"
#include "model/processing_order.hpp"
#include "model/schema.hpp"

namespace conveyor::cfg {

using namespace tasks; // the task kinds a config describes

namespace {

/// The values of every processingOrder key.
const std::initializer_list<std::string_view> orders = {model::fifo_order,
                                                        model::lifo_order};

using detail::at;
using detail::describe;
using detail::reader;
namespace fs = std::filesystem;

/// Slug -> JSON path of its first definition (tasks and workflows share
/// one namespace, docs/semantics.md §1).
using slug_map = std::map<std::string, std::string>;

/// No task timeout longer than a week: anything longer is a typo (seconds
/// instead of milliseconds would be shorter, minutes-as-ms longer).
constexpr std::int64_t max_timeout_ms = 7LL * 24 * 3600 * 1000;
constexpr auto int32_min = std::numeric_limits<std::int32_t>::min();
constexpr auto int32_max = std::numeric_limits<std::int32_t>::max();

void parse_slug(reader& r, const json& v, const std::string& path,
                std::string& out, slug_map& seen) {
  if (!r.string(v, "slug", path, out, true))
    return;
  // The registry checks the same rule; here the error carries a path.
  if (auto problem = model::slug_problem(out); !problem.empty()) {
    r.fail(at(path, "slug"), problem);
    return;
  }
  auto [it, fresh] = seen.emplace(out, at(path, "slug"));
  if (!fresh)
    r.fail(at(path, "slug"), "'" + out + "' is already used by " + it->second
                               + " (tasks and workflows share one namespace)");
}

void parse_retries(reader& r, const json& v, const std::string& path,
                   std::optional<model::retry_config>& out) {
  auto it = v.find("retries");
  if (it == v.end())
    return;
  auto parsed = model::parse_retry_config(*it);
  if (!parsed) // the message starts with "retries..."
    r.problems.push_back(at(path, parsed.error().message));
  else
    out = *parsed;
}

void parse_schema(reader& r, const json& v, std::string_view key,
                  const std::string& path, json& out) {
  auto it = v.find(key);
  if (it == v.end())
    return;
  const auto here = at(path, key);
  auto st = model::check_schema(*it);
  if (st) {
    out = *it;
    return;
  }
  // Messages are "schema: ..." at the root, "properties.x.type: ..." below.
  const auto& msg = st.error().message;
  if (msg.starts_with("schema: "))
    r.problems.push_back(here + ": " + msg.substr(8));
  else
    r.problems.push_back(at(here, msg));
}

void parse_run(reader& r, const json& v, const std::string& path,
               const std::string& base_dir, command_spec& out) {
  const auto here = at(path, "run");
  auto it = v.find("run");
  if (it == v.end()) {
    r.fail(
      here,
      "missing (required): the command, e.g. [\"./resize.sh\", \"--fast\"]");
    return;
  }
  if (!it->is_array() || it->empty()) {
    r.fail(here, "expected a non-empty array of strings (program, then "
                 "arguments), got "
                   + describe(*it));
    return;
  }
  std::vector<std::string> argv;
  bool ok = true;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& arg = (*it)[i];
    if (!arg.is_string()) {
      r.fail(at(here, i), "expected string, got " + describe(arg));
      ok = false;
    } else if (arg.get_ref<const std::string&>().find('\0')
               != std::string::npos) {
      r.fail(at(here, i), "must not contain a NUL character");
      ok = false;
    } else {
      argv.push_back(arg.get<std::string>());
    }
  }
  if (!ok)
    return;
  if (argv[0].empty()) {
    r.fail(at(here, 0), "the program must not be empty");
    return;
  }
  // A path (with a '/') is fixed now; a bare name is looked up in PATH
  // when the command starts.
  if (argv[0].find('/') != std::string::npos) {
    argv[0] = detail::resolve_path(base_dir, argv[0]);
    std::error_code ec;
    if (!fs::exists(argv[0], ec))
      r.fail(at(here, 0), "'" + argv[0] + "' does not exist");
    else if (fs::is_directory(argv[0], ec))
      r.fail(at(here, 0), "'" + argv[0] + "' is a directory");
    else if (::access(argv[0].c_str(), X_OK) != 0)
      r.fail(at(here, 0), "'" + argv[0] + "' is not executable (chmod +x?)");
  }
  out.argv = std::move(argv);
}

/// "env": ["NAME", "NAME=value", ...], the command's whole environment.
void parse_env(reader& r, const json& v, const std::string& path,
               std::vector<std::string>& out) {
  auto it = v.find("env");
  if (it == v.end())
    return;
  const auto here = at(path, "env");
  if (!it->is_array()) {
    r.fail(here, "expected an array of \"NAME\" or \"NAME=value\" strings, got "
                   + describe(*it));
    return;
  }
  std::vector<std::string> env;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    if (!e.is_string()) {
      r.fail(at(here, i), "expected string, got " + describe(e));
      continue;
    }
    const auto& s = e.get_ref<const std::string&>();
    auto name = s.substr(0, s.find('='));
    if (!detail::is_env_name(name) || s.find('\0') != std::string::npos)
      r.fail(at(here, i),
             "expected NAME or NAME=value (letters, digits, _), got '" + s
               + "'");
    else if (name == "CONVEYOR_TOKEN")
      r.fail(at(here, i), "CONVEYOR_TOKEN is never passed to a command");
    else
      env.push_back(s);
  }
  out = std::move(env);
}

void parse_task(reader& r, const json& v, const std::string& path, config& cfg,
                slug_map& slugs) {
  if (!r.object(v, path,
                {"slug", "run", "retries", "timeout", "inputSchema",
                 "outputSchema", "label", "schedule", "concurrency", "priority",
                 "remote", "env"}))
    return;
  task_config t;
  parse_slug(r, v, path, t.slug, slugs);
  if (auto it = v.find("remote"); it != v.end()) {
    if (!it->is_boolean())
      r.fail(at(path, "remote"),
             "expected true or false, got " + describe(*it));
    else
      t.remote = it->get<bool>();
  }
  // A remote task is run by worker nodes: this node has no command for it.
  if (t.remote) {
    if (v.contains("run"))
      r.fail(at(path, "run"), "a remote task has no command here (remove "
                              "\"run\" or \"remote\")");
  } else {
    parse_run(r, v, path, cfg.base_dir, t.command);
  }
  parse_env(r, v, path, t.command.env);
  std::int64_t n = 0;
  if (r.integer(v, "timeout", path, 0, max_timeout_ms, n))
    t.command.timeout = std::chrono::milliseconds(n);
  parse_retries(r, v, path, t.retries);
  parse_schema(r, v, "inputSchema", path, t.input_schema);
  parse_schema(r, v, "outputSchema", path, t.output_schema);
  r.string(v, "label", path, t.label, false, true);
  detail::parse_schedules(r, v, path, cfg, t.schedule);
  detail::parse_concurrency(r, v, path, t.concurrency);
  if (r.integer(v, "priority", path, int32_min, int32_max, n))
    t.priority = static_cast<std::int32_t>(n);
  cfg.tasks.push_back(std::move(t));
}

bool valid_step_id(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return false;
  return true;
}

/// "${x}" and nothing else.
bool is_single_reference(const json& v) {
  if (!v.is_string())
    return false;
  const auto& s = v.get_ref<const std::string&>();
  auto refs = parse_placeholders(s);
  return refs && refs->size() == 1 && s.size() == refs->front().text.size() + 3
         && s.starts_with("${");
}

void parse_step(reader& r, const json& s, const std::string& sp,
                const config& cfg, std::map<std::string, std::string>& ids,
                step_spec& step) {
  if (!r.object(
        s, sp, {"id", "task", "input", "condition", "completesJob", "retries"}))
    return;
  if (r.string(s, "id", sp, step.id, true)) {
    if (!valid_step_id(step.id))
      r.fail(at(sp, "id"), "a step id has 1 to 64 letters, digits, - or _");
    else if (auto [it, fresh] = ids.emplace(step.id, sp); !fresh)
      r.fail(at(sp, "id"),
             "duplicate step id '" + step.id + "' (also " + it->second + ")");
  }
  if (r.string(s, "task", sp, step.task, true) && !cfg.find_task(step.task))
    r.fail(at(sp, "task"),
           cfg.find_workflow(step.task)
             ? "'" + step.task + "' is a workflow; steps run tasks"
             : "unknown task '" + step.task + "'");
  if (auto in = s.find("input"); in != s.end()) {
    if (in->is_object() || is_single_reference(*in))
      step.input = *in;
    else
      r.fail(at(sp, "input"), "expected an object or a single \"${...}\" "
                              "reference, got "
                                + describe(*in));
  }
  if (auto c = s.find("condition"); c != s.end())
    step.condition = parse_condition(*c, at(sp, "condition"), r.problems);
  r.boolean(s, "completesJob", sp, step.completes_job);
  parse_retries(r, s, sp, step.retries);
}

void parse_steps(reader& r, const json& v, const std::string& path,
                 const config& cfg, declarative_spec& spec) {
  const auto here = at(path, "steps");
  auto it = v.find("steps");
  if (it == v.end() || !it->is_array() || it->empty()) {
    r.fail(here,
           it == v.end()
             ? "missing (required): a list of {id, task, input}"
             : "expected a non-empty array of steps, got " + describe(*it));
    return;
  }
  std::map<std::string, std::string> ids;
  for (std::size_t i = 0; i < it->size(); ++i) {
    step_spec step;
    parse_step(r, (*it)[i], at(here, i), cfg, ids, step);
    spec.steps.push_back(std::move(step)); // keeps indices aligned
  }
  // References need every id: a second pass.
  for (std::size_t i = 0; i < spec.steps.size(); ++i) {
    const auto sp = at(here, i);
    const auto& step = spec.steps[i];
    std::vector<located_placeholder> refs;
    collect_placeholders(step.input, at(sp, "input"), refs, r.problems);
    if (step.condition)
      refs.push_back(
        located_placeholder{at(sp, "condition"), step.condition->ref});
    for (const auto& ref : refs)
      if (auto problem = check_step_reference(ref.ref, spec.steps, i);
          !problem.empty())
        r.fail(ref.where, problem);
  }
}

void parse_workflow(reader& r, const json& v, const std::string& path,
                    config& cfg, slug_map& slugs) {
  if (!r.object(v, path,
                {"slug", "queue", "retries", "inputSchema", "steps", "label",
                 "schedule", "concurrency", "priority"}))
    return;
  workflow_config w;
  parse_slug(r, v, path, w.slug, slugs);
  std::string queue;
  if (r.string(v, "queue", path, queue)) {
    detail::check_queue(r, cfg, queue, at(path, "queue"));
    w.queue = queue;
  }
  parse_retries(r, v, path, w.retries);
  parse_schema(r, v, "inputSchema", path, w.input_schema);
  parse_steps(r, v, path, cfg, w.spec);
  r.string(v, "label", path, w.label, false, true);
  detail::parse_schedules(r, v, path, cfg, w.schedule);
  detail::parse_concurrency(r, v, path, w.concurrency);
  std::int64_t n = 0;
  if (r.integer(v, "priority", path, int32_min, int32_max, n))
    w.priority = static_cast<std::int32_t>(n);
  cfg.workflows.push_back(std::move(w));
}

void parse_queues(reader& r, const json& jobs, config& cfg) {
  auto it = jobs.find("queues");
  if (it == jobs.end())
    return;
  const std::string path = "jobs.queues";
  if (!r.map(*it, path))
    return;
  for (const auto& [name, q] : it->items()) {
    const auto qp = at(path, name);
    if (auto problem = model::queue_name_problem(name); !problem.empty()) {
      r.fail(qp, problem);
      continue;
    }
    queue_config c;
    if (r.object(q, qp, {"concurrency", "processingOrder"})) {
      std::int64_t n = 0;
      if (r.integer(q, "concurrency", qp, 1, 100000, n))
        c.concurrency = static_cast<std::int32_t>(n);
      r.choice(q, "processingOrder", qp, orders, c.processing_order);
    }
    cfg.queues[name] = c;
  }
}

/// "createdAt" | "-createdAt" | {default?, queues?: {name: order}}.
/// (model/processing_order.hpp)
void parse_processing_order(reader& r, const json& jobs, config& cfg) {
  auto it = jobs.find("processingOrder");
  if (it == jobs.end())
    return;
  const std::string path = "jobs.processingOrder";
  if (!it->is_object()) {
    r.choice(jobs, "processingOrder", "jobs", orders, cfg.processing_order);
    return;
  }
  if (!r.object(*it, path, {"default", "queues"}))
    return;
  r.choice(*it, "default", path, orders, cfg.processing_order);
  auto qs = it->find("queues");
  if (qs == it->end() || !r.map(*qs, at(path, "queues")))
    return;
  for (const auto& [name, order] : qs->items()) {
    const auto qp = at(at(path, "queues"), name);
    detail::check_queue(r, cfg, name, qp);
    std::string value;
    if (!r.choice(*qs, name, at(path, "queues"), orders, value))
      continue;
    auto& q = cfg.queues[name];
    if (!q.processing_order.empty() && q.processing_order != value)
      r.fail(qp, "conflicts with jobs.queues." + name + ".processingOrder");
    q.processing_order = value;
  }
}

template <class F>
void for_each_entry(reader& r, const json& jobs, std::string_view key, F&& f) {
  auto it = jobs.find(key);
  if (it == jobs.end())
    return;
  const auto path = at("jobs", key);
  if (!it->is_array()) {
    r.fail(path, "expected array, got " + describe(*it));
    return;
  }
  for (std::size_t i = 0; i < it->size(); ++i)
    f((*it)[i], at(path, i));
}

} // namespace

model::expected<config> parse_config(const json& doc,
                                     const std::string& base_dir) {
  reader r;
  config cfg;
  std::error_code ec;
  auto base =
    fs::absolute(base_dir.empty() ? fs::path{"."} : fs::path{base_dir}, ec);
  cfg.base_dir = (ec ? fs::path{base_dir} : base).lexically_normal().string();
  if (r.object(doc, "", {"jobs", "node", "limits"})) {
    auto jobs = doc.find("jobs");
    if (jobs != doc.end()
        && r.object(*jobs, "jobs",
                    {"tasks", "workflows", "queues", "processingOrder",
                     "deleteJobOnComplete", "maxInterruptions", "access",
                     "autoRun"})) {
      // Queues first: everything else may refer to them.
      parse_queues(r, *jobs, cfg);
      parse_processing_order(r, *jobs, cfg);
      r.boolean(*jobs, "deleteJobOnComplete", "jobs",
                cfg.delete_job_on_complete);
      std::int64_t max_interruptions = 0;
      if (r.integer(*jobs, "maxInterruptions", "jobs", 0, 1'000'000,
                    max_interruptions))
        cfg.max_interruptions = static_cast<std::int32_t>(max_interruptions);
      slug_map slugs;
      for_each_entry(r, *jobs, "tasks",
                     [&](const json& v, const std::string& p) {
                       parse_task(r, v, p, cfg, slugs);
                     });
      for_each_entry(r, *jobs, "workflows",
                     [&](const json& v, const std::string& p) {
                       parse_workflow(r, v, p, cfg, slugs);
                     });
      detail::parse_access(r, *jobs, "jobs", cfg);
      detail::parse_auto_run(r, *jobs, "jobs", cfg);
    }
    detail::parse_node(r, doc, "node", cfg);
    detail::parse_limits(r, doc, "limits",
                         cfg); // after tasks: sets their output cap
  }
  if (!r.problems.empty()) {
    std::string message;
    for (const auto& p : r.problems)
      message += (message.empty() ? "" : "\n") + p;
    return model::make_error(model::errc::invalid_input, std::move(message));
  }
  return cfg;
}

model::expected<config> load_config(const std::string& path) {
  constexpr std::size_t max_bytes = model::max_config_bytes;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return model::make_error(model::errc::invalid_input,
                             path + ": no such config file");
  if (fs::file_size(path, ec) > max_bytes)
    return model::make_error(model::errc::too_large,
                             path + ": config file larger than 2 MiB");
  std::ifstream in(path, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), {}};
  if (!in.good() && !in.eof())
    return model::make_error(model::errc::invalid_input,
                             path + ": cannot read config file: "
                               + std::generic_category().message(errno));
  auto doc = model::parse_json_guarded(text);
  if (!doc)
    return model::make_error(doc.error().code,
                             path + ": " + doc.error().message);
  auto folder = fs::absolute(fs::path{path}, ec).parent_path();
  return parse_config(*doc, folder.string());
}

} // namespace conveyor::cfg
