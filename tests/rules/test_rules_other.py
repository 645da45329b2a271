"""Server configuration, polyglot, JSP, ASP(X) and CGI rules, written as specifications."""

from __future__ import annotations

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
