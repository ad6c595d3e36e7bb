#include "gridhub/webform/intake_page.hpp"

#include <chrono>

#include <fmt/format.h>

#include "gridhub/common/public_reference.hpp"

#include "gridhub/webform/form_endpoint.hpp"

namespace gridhub::webform {
namespace {

// One stylesheet for all three pages: readable on a phone, large touch targets, system fonts only.
constexpr std::string_view kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d2129;font:16px/1.6 "PingFang SC","Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",sans-serif}
main{max-width:640px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:8px 0 4px}
p.hint{color:#4e5969;margin:0 0 16px;font-size:14px}
form,.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
label{display:block;font-weight:600;margin:14px 0 6px}
form>label:first-of-type{margin-top:0}
.req{color:#d4380d}
input[type=text],input[type=tel],select,textarea{width:100%;padding:10px;font:inherit;border:1px solid #c9cdd4;border-radius:6px;background:#fff}
textarea{min-height:140px;resize:vertical}
input[type=file]{width:100%;font-size:15px}
button{display:block;width:100%;margin-top:20px;padding:12px;font:inherit;font-size:18px;color:#fff;background:#1664ff;border:0;border-radius:6px}
.ref{font-size:20px;font-weight:700;letter-spacing:1px;word-break:break-all}
.err{color:#d4380d}
a{color:#1664ff}
)css";

std::string head(std::string_view title) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{}</title><style>{}</style></head><body><main>\n",
      html_escape(title), kStyle);
}

constexpr std::string_view kTail = "</main></body></html>\n";

}  // namespace

std::string form_html(std::string_view action, const std::vector<std::string>& communities, std::string_view submission_id,
                      const std::vector<FormPair>& values) {
  const auto value_of = [&](std::string_view name) -> std::string {
    for (const auto& p : values) {
      if (p.name == name) return p.value;
    }
    return {};
  };
  const auto attr = [&](std::string_view name) {
    const std::string v = value_of(name);
    return v.empty() ? std::string() : fmt::format(" value=\"{}\"", html_escape(v));
  };
  const std::string chosen = value_of("community");
  std::string community;
  if (communities.empty()) {
    community = fmt::format("<input type=\"text\" id=\"community\" name=\"community\" maxlength=\"60\" placeholder=\"如：麦香社区\"{}>",
                            attr("community"));
  } else {
    community = "<select id=\"community\" name=\"community\"><option value=\"\">请选择（不清楚可不选）</option>";
    for (const auto& c : communities) {
      community += fmt::format("<option{}>{}</option>", c == chosen ? " selected" : "", html_escape(c));
    }
    community += "</select>";
  }
  // What the page does not show (an H5 page's ts, lat/lng, type, ...) goes back as it came, so a
  // re-rendered form resubmits the same report.
  std::string hidden;
  bool has_src = false;
  for (const auto& p : values) {
    if (p.name == "_charset_" || p.name == "submission_id" || p.name == "content" || p.name == "addr" ||
        p.name == "community" || p.name == "name" || p.name == "tel") {
      continue;
    }
    has_src = has_src || p.name == "src";
    hidden += fmt::format("<input type=\"hidden\" name=\"{}\" value=\"{}\">", html_escape(p.name), html_escape(p.value));
  }
  if (!has_src) hidden += "<input type=\"hidden\" name=\"src\" value=\"intake_page\">";
  return fmt::format(
      "<form id=\"report-form\" method=\"post\" action=\"{}\" enctype=\"multipart/form-data\" accept-charset=\"utf-8\">\n"
      "<input type=\"hidden\" name=\"_charset_\">"
      "<input type=\"hidden\" name=\"submission_id\" value=\"{}\">{}\n"
      "<label for=\"content\">问题描述<span class=\"req\">*</span></label>"
      "<textarea id=\"content\" name=\"content\" required maxlength=\"2000\" placeholder=\"请描述遇到的问题、时间和具体情况\">{}</textarea>\n"
      "<label for=\"addr\">地址/小区</label>"
      "<input type=\"text\" id=\"addr\" name=\"addr\" maxlength=\"200\" placeholder=\"如：迎宾路35号春晖名居3号楼\"{}>\n"
      "<label for=\"community\">所在社区</label>{}\n"
      "<label for=\"name\">联系人</label><input type=\"text\" id=\"name\" name=\"name\" maxlength=\"40\" autocomplete=\"name\"{}>\n"
      "<label for=\"tel\">联系电话</label><input type=\"tel\" id=\"tel\" name=\"tel\" maxlength=\"30\" autocomplete=\"tel\"{}>\n"
      "<label for=\"photo\">照片</label>"
      "<input type=\"file\" id=\"photo\" name=\"photo\" accept=\"image/jpeg,image/png,image/webp,image/heic\" multiple>\n"
      "<button type=\"submit\">提交</button>\n</form>\n",
      html_escape(action), html_escape(submission_id), hidden, html_escape(value_of("content")), attr("addr"), community,
      attr("name"), attr("tel"));
}

std::string intake_page_html(std::string_view title, std::string_view action, const std::vector<std::string>& communities,
                             std::string_view submission_id, std::string_view progress_path) {
  const std::string progress =
      progress_path.empty() ? std::string()
                            : fmt::format("<a id=\"progress-link\" href=\"{}\">查询已反映问题的办理进度</a>", html_escape(progress_path));
  return head(title) + fmt::format(
      "<h1>{}</h1><p class=\"hint\">请如实填写，带<span class=\"req\">*</span>的为必填项。提交后会显示受理编号，请妥善保存。{}</p>\n",
      html_escape(title), progress) + form_html(action, communities, submission_id, {}) + std::string(kTail);
}

std::string thanks_page_html(std::string_view title, std::string_view page_path, std::string_view public_reference,
                             std::string_view key_reference, std::string_view progress_path) {
  const std::string progress =
      progress_path.empty() ? std::string()
                            : fmt::format("<p><a id=\"progress-link\" href=\"{}?reference={}\">查询办理进度</a></p>",
                                          html_escape(progress_path), html_escape(public_reference));
  return head(title) + fmt::format(
      "<h1>提交成功</h1><div class=\"card\"><p>感谢您的反映，我们已收到，会尽快转交相关部门处理。</p>"
      "<p>受理编号：</p><p class=\"ref\" id=\"reference\" data-key=\"{}\">{}</p>"
      "<p class=\"hint\">查询办理进度时请提供此编号和您留的手机号后四位。</p>{}<p><a href=\"{}\">再反映一个问题</a></p></div>\n",
      html_escape(key_reference), html_escape(display_reference(public_reference)), progress, html_escape(page_path)) +
         std::string(kTail);
}

std::string local_minute(std::int64_t unix_micros, int utc_offset_minutes) {
  if (unix_micros == 0) return {};
  using namespace std::chrono;
  const sys_seconds local{seconds(unix_micros / 1000000 + std::int64_t{utc_offset_minutes} * 60)};
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss hms{local - day};
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count());
}

std::string progress_form_html(std::string_view title, std::string_view progress_path, std::string_view reference,
                               std::string_view message) {
  const std::string notice =
      message.empty() ? std::string() : fmt::format("<div class=\"card\"><p class=\"err\" id=\"problem\">{}</p></div>\n", html_escape(message));
  return head(title) + fmt::format(
      "<h1>查询进度</h1><p class=\"hint\">请输入提交时得到的受理编号和您留的手机号后四位。</p>\n{}"
      "<form id=\"progress-form\" method=\"post\" action=\"{}\" accept-charset=\"utf-8\">\n"
      "<label for=\"reference\">受理编号<span class=\"req\">*</span></label>"
      "<input type=\"text\" id=\"reference\" name=\"reference\" required maxlength=\"40\" inputmode=\"numeric\" "
      "placeholder=\"12位数字\" value=\"{}\">\n"
      "<label for=\"tel4\">手机号后四位<span class=\"req\">*</span></label>"
      "<input type=\"tel\" id=\"tel4\" name=\"tel4\" required maxlength=\"4\" inputmode=\"numeric\" autocomplete=\"off\">\n"
      "<button type=\"submit\">查询</button>\n</form>\n",
      notice, html_escape(progress_path), html_escape(reference)) + std::string(kTail);
}

std::string progress_result_html(std::string_view title, std::string_view progress_path,
                                 const gridhub::v1::PublicProgress& progress, int utc_offset_minutes) {
  std::string notes;
  for (const auto& n : progress.notes()) {
    notes += fmt::format("<li><span class=\"hint\">{}</span> {}：{}</li>", local_minute(n.at().unix_micros(), utc_offset_minutes),
                         html_escape(n.action()), html_escape(n.text()));
  }
  if (notes.empty()) notes = "<li class=\"hint\">暂无</li>";
  const std::string handled_by = progress.handled_by().empty() ? std::string("待分派") : html_escape(progress.handled_by());
  return head(title) + fmt::format(
      "<h1>办理进度</h1><div class=\"card\">"
      "<p>受理编号：<span class=\"ref\">{}</span></p>"
      "<p>当前状态：<strong id=\"status\">{}</strong></p>"
      "<p>承办单位：<span id=\"handled-by\">{}</span></p>"
      "<p>反映时间：{}</p><p>更新时间：<span id=\"updated\">{}</span></p>"
      "<p>办理情况：</p><ul id=\"notes\">{}</ul>"
      "<p><a href=\"{}\">查询其他编号</a></p></div>\n",
      html_escape(display_reference(progress.reference())), html_escape(progress.status_text()), handled_by,
      local_minute(progress.reported_at().unix_micros(), utc_offset_minutes),
      local_minute(progress.updated_at().unix_micros(), utc_offset_minutes), notes, html_escape(progress_path)) +
         std::string(kTail);
}

std::string error_page_html(std::string_view title, std::string_view page_path, unsigned status, std::string_view reason,
                            std::string_view field_label, std::string_view detail, std::string_view filled_form) {
  std::string what;
  if (reason == "missing_field") {
    what = fmt::format("请填写：{}", html_escape(field_label));
  } else if (reason == "photo_too_large" || reason == "too_many_photos") {
    what = fmt::format("{}太大或太多，请压缩后重新上传。", html_escape(field_label));
  } else if (reason == "unsupported_photo") {
    what = fmt::format("{}只支持 JPG、PNG、WebP、HEIC 格式的图片。", html_escape(field_label));
  } else if (reason == "body_too_large") {
    what = "提交的内容太大（多半是照片太多或太大），请减少或压缩照片后重新提交。";
  } else if (reason == "too_slow") {
    what = "网络太慢，提交没有完成，请稍后重新提交。";
  } else if (reason == "not_found") {
    what = "没有这个页面，请从反映问题的页面重新填写。";
  } else if (status == 503) {
    what = "系统繁忙，您的反映还没有提交成功，请稍等片刻后重新提交。";
  } else if (status >= 500) {
    what = "系统暂时出现故障，您的反映还没有提交成功，请稍后重新提交。";
  } else {
    what = fmt::format("“{}”填写有误，请检查后重新提交。", html_escape(field_label));
  }
  // The code and detail help staff on the phone; they name fields, never requests or addresses.
  std::string code = status >= 500 || detail.empty()
                         ? fmt::format("错误代码 {}", status)
                         : fmt::format("错误代码 {} {}：{}", status, html_escape(reason), html_escape(detail));
  if (filled_form.empty()) {
    // Nothing of the post was read (or could be decoded): the browser's own Back keeps what was
    // typed in most browsers, a link would load the page empty.
    return head(title) + fmt::format(
        "<h1>提交未成功</h1><div class=\"card\"><p class=\"err\" id=\"problem\">{}</p>"
        "<p class=\"hint\">{}</p><p>请用浏览器的“返回”按钮回到表单，已填写的内容一般仍在；"
        "或<a href=\"{}\">重新填写</a>。</p></div>\n",
        what, code, html_escape(page_path)) + std::string(kTail);
  }
  // What the resident typed is in the form below (a link back would load an empty page); photos
  // cannot be put back into a file input and must be chosen again.
  return head(title) + fmt::format(
      "<h1>提交未成功</h1><div class=\"card\"><p class=\"err\" id=\"problem\">{}</p>"
      "<p class=\"hint\">{}</p><p>您填写的内容已保留在下方，<a href=\"#report-form\">修改后重新提交</a>即可"
      "（如有照片，请重新选择）。</p></div>\n",
      what, code) + std::string(filled_form) + std::string(kTail);
}

}  // namespace gridhub::webform
