<%@ page pageEncoding="UTF-8" %>
<script>
var msg = { saved: "Enregistr\u00e9", deleted: "Supprim\u00e9", title: "\u4e2d\u6587\u6807\u9898" };
</script>
<p><%= request.getParameter("lang") == null ? "fr" : "x" %></p>
