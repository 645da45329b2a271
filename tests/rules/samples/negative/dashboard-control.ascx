<%@ Control Language="C#" AutoEventWireup="true" %>
<script language="javascript" type="text/javascript">
  function parseDate(str) { var d = eval(str); return d; }
  var api = { JsonRequest: function (url) { return $.ajax({ url: url }); } };
</script>
<div id="stats"><%= DateTime.Now.ToShortDateString() %></div>
