/*
 * jsp: Java Server Pages webshells - commands run with
 * Runtime.getRuntime().exec / ProcessBuilder from request parameters,
 * classes defined at run time from request bytes (memory-shell loaders),
 * script engines evaluating request input, and JSP file managers.
 *
 * Written for the fim project from first principles; not derived from any
 * public rule set.
 */

private rule fim_jsp_file
{
    meta:
        author = "fim project"
        description = "Helper: JSP/JSPX page"
        family = "jsp"
        severity = "low"
        looks_for = "<% or <jsp: markup"
    strings:
        $a = "<%"
        $b = "<jsp:" nocase
        $c = "jsp:scriptlet" nocase
    condition:
        any of them
}

rule fim_jsp_command_exec_request
{
    meta:
        author = "fim project"
        description = "JSP page runs an operating-system command (Runtime.exec / ProcessBuilder) with a request parameter: a command webshell."
        family = "jsp"
        severity = "critical"
        looks_for = "Runtime.getRuntime().exec(request.getParameter(...)), new ProcessBuilder(... request.getParameter ...)"
    strings:
        $exec = /(Runtime\s{0,5}\.\s{0,5}getRuntime\s{0,5}\(\s{0,5}\)\s{0,5}\.\s{0,5}exec|new\s{1,5}ProcessBuilder|ProcessImpl|UNIXProcess)\s{0,5}\(/
        $refl = /"java\.lang\.(Runtime|ProcessBuilder|ProcessImpl|UNIXProcess)"/
        $invoke = /\.(getMethod|getDeclaredMethod|getDeclaredConstructor|getConstructor)\s{0,5}\(/
        $direct = /(\.exec|ProcessBuilder)\s{0,5}\([^;]{0,150}request\s{0,5}\.\s{0,5}(getParameter|getHeader|getInputStream|getReader|getQueryString)/
        $req = /request\s{0,5}\.\s{0,5}(getParameter|getHeader|getInputStream|getReader|getQueryString|getParameterValues)\s{0,5}\(/
    condition:
        fim_jsp_file and ($direct or (($exec or ($refl and $invoke)) and $req and filesize < 64KB))
}

rule fim_jsp_class_loader_from_request
{
    meta:
        author = "fim project"
        description = "JSP page defines a Java class at run time (ClassLoader.defineClass) from request bytes, usually base64/AES-decoded: an in-memory webshell loader."
        family = "jsp"
        severity = "critical"
        looks_for = "defineClass + request.getInputStream/getReader/getParameter + Base64/Cipher"
    strings:
        $def = /defineClass\s{0,5}\(|\.defineClass\b/
        $cl = "ClassLoader"
        $req = /request\s{0,5}\.\s{0,5}(getParameter|getHeader|getInputStream|getReader)\s{0,5}\(/
        $dec1 = /Base64|BASE64Decoder|decodeBuffer/
        $dec2 = /Cipher\s{0,5}\.\s{0,5}getInstance/
        $dec3 = "AES"
    condition:
        fim_jsp_file and $def and $cl and $req and any of ($dec*)
}

rule fim_jsp_script_engine_eval_request
{
    meta:
        author = "fim project"
        description = "JSP page evaluates request input with a scripting engine (javax.script ScriptEngine eval, Nashorn/JavaScript) or expression language: arbitrary code execution."
        family = "jsp"
        severity = "critical"
        looks_for = "ScriptEngineManager ... eval(request.getParameter(...))"
    strings:
        $eng = /ScriptEngineManager|getEngineByName|getEngineByExtension/
        $eval = /\.eval\s{0,5}\([^;]{0,120}request\s{0,5}\.\s{0,5}(getParameter|getHeader|getReader|getInputStream)/
        $req = /request\s{0,5}\.\s{0,5}(getParameter|getHeader|getReader|getInputStream)\s{0,5}\(/
        $e2 = /\.eval\s{0,5}\(/
    condition:
        fim_jsp_file and $eng and ($eval or ($e2 and $req and filesize < 32KB))
}

rule fim_jsp_file_manager
{
    meta:
        author = "fim project"
        description = "JSP file manager: a request-driven page that lists directories and creates, uploads or deletes files on the server."
        family = "jsp"
        severity = "high"
        looks_for = "java.io.File + listFiles + FileOutputStream + delete() + request.getParameter"
    strings:
        $f = /new\s{1,5}(java\.io\.)?File\s{0,5}\(/
        $list = /\.(listFiles|list)\s{0,5}\(\s{0,5}\)/
        $out = /FileOutputStream|FileWriter/
        $del = /\.delete\s{0,5}\(\s{0,5}\)/
        $req = /request\s{0,5}\.\s{0,5}getParameter\s{0,5}\(/
        $x1 = /getRuntime|ProcessBuilder/
        $x2 = /(os\.name|user\.dir|getFreeSpace|setExecutable|renameTo)/
    condition:
        fim_jsp_file and $f and $list and $out and $del and $req and any of ($x*)
}
