#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace abrsim {

namespace {

constexpr double kWidth = 900, kHeight = 400;
constexpr double kLeft = 70, kRight = 20, kTop = 62, kBottom = 50;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

}  // namespace

std::string chart_svg(const Scenario& scenario, const RunResult& chorus, const RunResult& baseline) {
  const double duration = scenario.trace.duration_s;
  const std::size_t bins = chorus.capacity_bps.size();
  double max_kbps = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    max_kbps = std::max({max_kbps, chorus.capacity_bps[b] / 1000, chorus.send_rate_1s(b) / 1000,
                         baseline.send_rate_1s(b) / 1000});
  }
  const double y_step = nice_step(max_kbps * 1.05, 6);
  const double y_max = std::ceil(max_kbps * 1.05 / y_step) * y_step;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto x = [&](double s) { return kLeft + s / duration * pw; };
  auto y = [&](double kbps) { return kTop + ph - std::min(kbps, y_max) / y_max * ph; };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" << scenario.title << "</text>\n";
  // Grid and axes.
  for (double v = 0; v <= y_max + 1e-9; v += y_step) {
    o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + pw << "\" y1=\"" << num(y(v)) << "\" y2=\"" << num(y(v))
      << "\" stroke=\"#e4e4e4\"/>\n";
    o << "<text x=\"" << kLeft - 6 << "\" y=\"" << num(y(v) + 4) << "\" text-anchor=\"end\">" << v << "</text>\n";
  }
  const double x_step = nice_step(duration, 8);
  for (double s = 0; s <= duration + 1e-9; s += x_step) {
    o << "<line x1=\"" << num(x(s)) << "\" x2=\"" << num(x(s)) << "\" y1=\"" << kTop << "\" y2=\"" << kTop + ph
      << "\" stroke=\"#f0f0f0\"/>\n";
    o << "<text x=\"" << num(x(s)) << "\" y=\"" << kTop + ph + 16 << "\" text-anchor=\"middle\">" << s << "</text>\n";
  }
  o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft << "\" y1=\"" << kTop << "\" y2=\"" << kTop + ph << "\" stroke=\"black\"/>\n";
  o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + pw << "\" y1=\"" << kTop + ph << "\" y2=\"" << kTop + ph
    << "\" stroke=\"black\"/>\n";
  o << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kHeight - 12 << "\" text-anchor=\"middle\">time (s)</text>\n";
  o << "<text x=\"16\" y=\"" << kTop + ph / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 " << kTop + ph / 2
    << ")\">kbit/s</text>\n";

  // Capacity as a step line.
  o << "<polyline fill=\"none\" stroke=\"#222\" stroke-width=\"2\" stroke-dasharray=\"6 3\" points=\"";
  const auto& steps = scenario.trace.steps;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const double end = i + 1 < steps.size() ? steps[i + 1].start_s : duration;
    const double kbps = steps[i].capacity_bps / 1000;
    o << num(x(steps[i].start_s)) << ',' << num(y(kbps)) << ' ' << num(x(end)) << ',' << num(y(kbps)) << ' ';
  }
  o << "\"/>\n";
  auto line = [&](const RunResult& run, const char* color) {
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.6\" points=\"";
    for (std::size_t b = 0; b < bins; ++b) {
      o << num(x((b + 1) * RunResult::kBinS)) << ',' << num(y(run.send_rate_1s(b) / 1000)) << ' ';
    }
    o << "\"/>\n";
  };
  line(baseline, "#e07b00");
  line(chorus, "#1f5fbf");

  // Legend, in one row under the title.
  const char* labels[3] = {"capacity", "sent, chorus (AbrCore + modelled GCC)", "sent, browser alone (modelled GCC)"};
  const char* colors[3] = {"#222", "#1f5fbf", "#e07b00"};
  const double offsets[3] = {0, 110, 390};
  for (int i = 0; i < 3; ++i) {
    const double lx = kLeft + offsets[i], yy = 42;
    o << "<line x1=\"" << lx << "\" x2=\"" << lx + 24 << "\" y1=\"" << yy << "\" y2=\"" << yy << "\" stroke=\"" << colors[i]
      << "\" stroke-width=\"2\"" << (i == 0 ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
    o << "<text x=\"" << lx + 30 << "\" y=\"" << yy + 4 << "\">" << labels[i] << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace abrsim
