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
        $req = /(request|getRequest\s{0,3}\(\s{0,3}\))\s{0,5}\.\s{0,5}(getParameter|getHeader|getInputStream|getReader|getQueryString|getParameterValues)\s{0,5}\(/
    condition:
        fim_jsp_file and ($direct or (($exec or ($refl and $invoke)) and $req and filesize < 256KB))
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
        // a hand-written decoder still ends in an instance of the new class
        $ni = /\.\s{0,3}newInstance\s{0,3}\(\s{0,3}\)/
    condition:
        fim_jsp_file and $def and $cl and $req and (any of ($dec*) or $ni)
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

rule fim_jsp_embedded_class_bytes
{
    meta:
        author = "fim project"
        description = "JSP page carries compiled Java code (a base64 class file, a BCEL-encoded class, a serialized object or class bytes as numbers) and loads or deserializes it: an in-memory webshell or gadget chain."
        family = "jsp"
        severity = "critical"
        looks_for = "\"yv66vg...\" / \"$$BCEL$$\" / \"rO0AB...\" / {-54,-2,-70,-66} + defineClass/loadClass/readObject/newInstance/TemplatesImpl"
    strings:
        $b64class = "yv66vg"
        $bcel = "$$BCEL$$"
        $ser = /rO0AB[A-Za-z0-9+\/]{8}/
        $num = /-54\s{0,2},\s{0,2}-2\s{0,2},\s{0,2}-70\s{0,2},\s{0,2}-66/
        $hex = /(0x)?ca\s{0,2},?\s{0,2}(0x)?fe\s{0,2},?\s{0,2}(0x)?ba\s{0,2},?\s{0,2}(0x)?be/ nocase
        $bcelnum = "36,36,66,67,69,76,36,36"
        $use = /defineClass|loadClass|readObject|newInstance|TemplatesImpl|installClass|Files\s{0,3}\.\s{0,3}write|FileOutputStream/
    condition:
        fim_jsp_file and filesize < 1MB and any of ($b64class, $bcel, $ser, $num, $hex, $bcelnum) and $use
}

rule fim_jsp_reflective_command
{
    meta:
        author = "fim project"
        description = "JSP page runs a command without a visible Runtime.exec call: Runtime/ProcessBuilder reached through java.beans Expression/Statement, reflection (Class.forName + getMethod + invoke) or an expression engine, with the result cast to Process, fed by a request parameter."
        family = "jsp"
        severity = "critical"
        looks_for = "new Expression(Runtime.getRuntime(), \"e\"+\"xec\", ...), (Process) m.invoke(...), Class.forName(decode(...)) + request.getParameter"
    strings:
        $beans = /new\s{1,3}(java\.beans\.)?(Expression|Statement)\s{0,3}\(\s{0,3}(Runtime\s{0,3}\.\s{0,3}getRuntime|new\s{1,3}ProcessBuilder|Class\s{0,3}\.\s{0,3}forName)/
        $cast = /\(\s{0,3}(java\.lang\.)?Process\s{0,3}\)\s{0,3}[A-Za-z_(]/
        $refl = /\.\s{0,3}(invoke|getValue|newInstance)\s{0,3}\(/
        $forname = /Class\s{0,3}\.\s{0,3}forName\s{0,3}\(|getDeclaredMethods?\s{0,3}\(|getMethod\s{0,3}\(|createValueExpression|getEngineByName/
        $req = /request\s{0,5}\.\s{0,5}(getParameter|getHeader|getInputStream|getReader|getQueryString|getParameterValues)\s{0,5}\(/
    condition:
        fim_jsp_file and filesize < 128KB and $req and ($beans or ($cast and $refl and $forname))
}

rule fim_jsp_gadget_class_use
{
    meta:
        author = "fim project"
        description = "JSP page uses JDK internals or gadget classes that exist to load or run code (TemplatesImpl, BCEL ClassLoader, Nashorn ScriptLoader, Proxy.defineClass0, MimeLauncher, JdbcRowSetImpl/JNDI with remote codebase, XMLDecoder, JShell, ASM class writing Runtime.exec) together with request input."
        family = "jsp"
        severity = "critical"
        looks_for = "TemplatesImpl / bcel.internal / ScriptLoader installClass / defineClass0 / MimeLauncher / setDataSourceName(request...) / trustURLCodebase / XMLDecoder + request / JShell eval(request...)"
    strings:
        $g1 = "TemplatesImpl"
        $g2 = "bcel.internal"
        $g3 = "jdk.nashorn.internal.runtime.ScriptLoader"
        $g4 = "\"defineClass"
        $g5 = "sun.net.www.MimeLauncher"
        $g6 = "trustURLCodebase"
        $g7 = /setDataSourceName\s{0,3}\(\s{0,3}request/
        $g8 = /new\s{1,3}(java\.beans\.)?XMLDecoder\s{0,3}\(/
        $g9 = /jdk\.jshell|JShell\s{0,3}\.\s{0,3}(create|builder)/
        $g10 = /"java\/lang\/(Runtime|ProcessBuilder)"/
        $g11 = /lookup\s{0,3}\(\s{0,3}request\s{0,3}\.\s{0,3}getParameter/
        $g12 = "ServiceFinder$"
        $g13 = /VersionHelper\s{0,3}\.\s{0,3}getVersionHelper\s{0,3}\(\s{0,3}\)\s{0,3}\.\s{0,3}loadClass/
        $g14 = /new\s{1,3}URLClassLoader\s{0,3}\([^;]{0,200}\)\s{0,3}\)?\s{0,3}\.\s{0,3}loadClass/
        $g16 = /new\s{1,3}(javax\.el\.)?ELProcessor\s{0,3}\(|createValueExpression\s{0,3}\(/
        $g15 = /ServiceLoader\s{0,20}\.\s{0,3}load\s{0,3}\([^;]{0,80}URLClassLoader/
        $req = /(request|req)\s{0,5}\.\s{0,5}(getParameter|getHeader|getInputStream|getReader|getQueryString)\s{0,5}\(/
    condition:
        fim_jsp_file and filesize < 512KB and any of ($g*) and $req
}

rule fim_jsp_unicode_escaped_code
{
    meta:
        author = "fim project"
        description = "JSP page written as \\uXXXX escapes of plain ASCII (the Java compiler decodes them before parsing): hides the code from review and signatures."
        family = "jsp"
        severity = "high"
        looks_for = "runs of \\u0069\\u0066\\u0028... in scriptlet code"
    strings:
        $esc = /(\\u{1,6}00[2-7][0-9a-fA-F]){12}/
    condition:
        fim_jsp_file and $esc
}

rule fim_jsp_entity_escaped_scriptlet
{
    meta:
        author = "fim project"
        description = "JSPX page whose scriptlet code is written as XML character references (&#x52;&#x75;...): the XML parser decodes them into Java code, hiding it from review."
        family = "jsp"
        severity = "high"
        looks_for = "<jsp:scriptlet> with runs of &#xNN; / &#NN; references"
    strings:
        $scr = /<jsp:(scriptlet|expression|declaration)/
        $ent = /(&#(x[0-9a-fA-F]{2}|\d{2,3});){12}/
    condition:
        $scr and $ent
}

rule fim_jsp_cdata_split_code
{
    meta:
        author = "fim project"
        description = "JSPX page splits Java identifiers with empty CDATA sections (Run<![CDATA[time.get]]>Runtime): a trick that hides method names from signatures."
        family = "jsp"
        severity = "high"
        looks_for = "identifier<![CDATA[...]]>identifier inside <jsp:scriptlet>"
    strings:
        $scr = /<jsp:(scriptlet|expression|declaration)/
        $split = /[A-Za-z_.]<!\[CDATA\[[A-Za-z_.(]/
    condition:
        $scr and #split > 1
}

rule fim_jsp_xslt_of_request
{
    meta:
        author = "fim project"
        description = "JSP page compiles an XSLT stylesheet taken from the request body: XSLT extension functions run arbitrary Java code."
        family = "jsp"
        severity = "critical"
        looks_for = "request.getReader()/getInputStream() + TransformerFactory.newTransformer(new StreamSource(...))"
    strings:
        $req = /request\s{0,3}\.\s{0,3}(getReader|getInputStream|getParameter)\s{0,3}\(/
        $tf = /newTransformer\s{0,3}\(\s{0,3}new\s{1,3}StreamSource|newTemplates\s{0,3}\(/
    condition:
        fim_jsp_file and filesize < 64KB and $req and $tf
}

rule fim_jsp_memory_shell_injection
{
    meta:
        author = "fim project"
        description = "JSP page reaches into the servlet container's internals (StandardContext via reflection) to register a servlet, filter or listener at run time: a memory-resident webshell that survives the page's deletion."
        family = "jsp"
        severity = "critical"
        looks_for = "getDeclaredField(\"context\") + StandardContext + addServlet/addFilter/FilterDef/addApplicationEventListener"
    strings:
        $ctx = /StandardContext|ApplicationContextFacade|ApplicationContext\.class/
        $field = /getDeclaredField\s{0,3}\(/
        $add = /addServlet|addChild|addFilterMap|FilterDef|addApplicationEventListener|addServletMapping|ApplicationFilterConfig/
    condition:
        fim_jsp_file and filesize < 256KB and $ctx and $field and $add
}

rule fim_jsp_remote_page_injector
{
    meta:
        author = "fim project"
        description = "Small JSP page fetches a hard-coded remote URL and prints its content into the response: an SEO doorway or remote content injector."
        family = "jsp"
        severity = "medium"
        looks_for = "new java.net.URL(\"http://...\") + openConnection/openStream + out.print of the read lines"
    strings:
        $url = /"https?:\/\/[a-z0-9.-]{4,60}(:\d{2,5})?\/?[^"\n]{0,80}"/ nocase
        $conn = /new\s{1,3}(java\.net\.)?URL\s{0,3}\(/
        $open = /\.\s{0,3}(openConnection|openStream)\s{0,3}\(/
        $out = /out\s{0,3}\.\s{0,3}print(ln)?\s{0,3}\(/
        $ua = /getHeader\s{0,3}\(\s{0,3}"(user-agent|referer)"/ nocase
    condition:
        fim_jsp_file and filesize < 8KB and $url and $conn and $open and $out and ($ua or filesize < 2KB)
}

rule fim_jsp_socket_tunnel
{
    meta:
        author = "fim project"
        description = "JSP page opens sockets to a target named in request headers or parameters and relays the request body: an HTTP tunnel (reGeorg style) into the internal network."
        family = "jsp"
        severity = "critical"
        looks_for = "SocketChannel.open / new Socket + request.getHeader(\"X-...\") + CONNECT/FORWARD/READ + request.getInputStream"
    strings:
        $sock = /SocketChannel\s{0,3}\.\s{0,3}open|new\s{1,3}(java\.net\.)?Socket\s{0,3}\(/
        $target = /request\s{0,3}\.\s{0,3}(getHeader|getParameter)\s{0,3}\(/
        $verb = /"(CONNECT|FORWARD|DISCONNECT|READ)"/
        $sess = /session\s{0,3}\.\s{0,3}(setAttribute|getAttribute|putValue)\s{0,3}\(/
        $body = /request\s{0,3}\.\s{0,3}getInputStream\s{0,3}\(/
    condition:
        fim_jsp_file and filesize < 128KB and $sock and $target and ($verb or $sess) and $body
}

rule fim_jsp_reverse_shell
{
    meta:
        author = "fim project"
        description = "JSP page connects a socket and wires a shell process's input and output to it: a reverse or bind shell."
        family = "jsp"
        severity = "critical"
        looks_for = "new Socket(host, port) + Runtime.exec/ProcessBuilder(\"/bin/sh\"|\"cmd.exe\") + getInputStream/getOutputStream piping"
    strings:
        $sock = /new\s{1,3}(java\.net\.)?(Server)?Socket\s{0,3}\(/
        $proc = /getRuntime\s{0,3}\(\s{0,3}\)\s{0,3}\.\s{0,3}exec\s{0,3}\(|new\s{1,3}ProcessBuilder\s{0,3}\(/
        $sh = /"(\/bin\/(ba)?sh|cmd(\.exe)?|sh)"/
        $pipe = /\.\s{0,3}getOutputStream\s{0,3}\(/
    condition:
        fim_jsp_file and filesize < 64KB and $sock and $proc and $sh and $pipe
}

rule fim_jsp_sql_console
{
    meta:
        author = "fim project"
        description = "JSP page connects to a database with a URL, user or password from the request, or runs SQL text taken straight from the request: a database console webshell."
        family = "jsp"
        severity = "high"
        looks_for = "DriverManager.getConnection(request.getParameter(...)) / executeQuery(request.getParameter(\"sql\"))"
    strings:
        $conn = /DriverManager\s{0,3}\.\s{0,3}getConnection\s{0,3}\([^;]{0,120}request\s{0,3}\.\s{0,3}getParameter/
        $exec = /\.\s{0,3}(executeQuery|executeUpdate|execute|addBatch)\s{0,3}\(\s{0,3}request\s{0,3}\.\s{0,3}getParameter/
    condition:
        fim_jsp_file and filesize < 256KB and any of them
}

rule fim_jsp_request_content_to_file
{
    meta:
        author = "fim project"
        description = "JSP page writes request content into a file whose path also comes from the request (or writes the request body to disk): an uploader that drops pages and programs."
        family = "jsp"
        severity = "high"
        looks_for = "new FileOutputStream(request.getParameter(...)) / FileWriter(path) + write(request.getParameter(\"content\")) / Files.write(..., request.getParameter(...).getBytes())"
    strings:
        $p1 = /new\s{1,3}(java\.io\.)?(FileOutputStream|FileWriter|PrintWriter|RandomAccessFile|File)\s{0,3}\(\s{0,3}(application\s{0,3}\.\s{0,3}getRealPath\s{0,3}\(\s{0,3})?request\s{0,3}\.\s{0,3}getParameter/
        $w1 = /\.\s{0,3}(write|print|println)\s{0,3}\(\s{0,3}request\s{0,3}\.\s{0,3}getParameter\s{0,3}\(/
        $w2 = /Files\s{0,3}\.\s{0,3}write\s{0,3}\([^;]{0,160}request\s{0,3}\.\s{0,3}getParameter\s{0,3}\([^;]{0,40}getBytes/
        $w3 = /\.\s{0,3}write\s{0,3}\(\s{0,3}request\s{0,3}\.\s{0,3}getParameter\s{0,3}\([^;]{0,40}getBytes/
    condition:
        fim_jsp_file and filesize < 128KB and (($p1 and $w1) or $w2 or $w3)
}

rule fim_jsp_wide_encoded_code
{
    meta:
        author = "fim project"
        description = "JSP page stored as UTF-16 whose scriptlets run commands, define classes or evaluate scripts: the odd encoding hides the code from byte-oriented signatures while the container still compiles it."
        family = "jsp"
        severity = "high"
        looks_for = "<%...%> in UTF-16 with getRuntime/ProcessBuilder/defineClass/ScriptEngineManager/getParameter"
    strings:
        $open = "<%" wide
        $w1 = "getRuntime" wide
        $w2 = "ProcessBuilder" wide
        $w3 = "defineClass" wide
        $w4 = "ScriptEngineManager" wide
        $req = "getParameter" wide
    condition:
        filesize < 512KB and $open and $req and any of ($w*) and not fim_jsp_file
}
