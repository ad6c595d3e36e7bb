#include "gridhub/webform/intake_page.hpp"

#include <fmt/format.h>

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
                             std::string_view submission_id) {
  return head(title) + fmt::format(
      "<h1>{}</h1><p class=\"hint\">请如实填写，带<span class=\"req\">*</span>的为必填项。提交后会显示受理编号，请妥善保存。</p>\n",
      html_escape(title)) + form_html(action, communities, submission_id, {}) + std::string(kTail);
}

std::string thanks_page_html(std::string_view title, std::string_view page_path, std::string_view reference) {
  return head(title) + fmt::format(
      "<h1>提交成功</h1><div class=\"card\"><p>感谢您的反映，我们已收到，会尽快转交相关部门处理。</p>"
      "<p>受理编号：</p><p class=\"ref\" id=\"reference\">{}</p>"
      "<p class=\"hint\">查询办理进度时请提供此编号。</p><p><a href=\"{}\">再反映一个问题</a></p></div>\n",
      html_escape(reference), html_escape(page_path)) + std::string(kTail);
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
